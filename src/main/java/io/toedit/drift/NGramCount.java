package io.toedit.drift;

/**
 * A heavy-hitter n-gram with its estimated count and the sketch's error bounds (equal to the
 * estimate while the sketch is below capacity).
 */
public record NGramCount(int[] tokenIds, long estimate, long lowerBound, long upperBound) {

  public int order() {
    return tokenIds.length;
  }
}
