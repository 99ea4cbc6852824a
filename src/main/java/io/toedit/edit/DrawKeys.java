package io.toedit.edit;

import java.nio.charset.StandardCharsets;

/**
 * The counter-based random numbers of the edit rule: the uniform draw for a token is a pure
 * function of (seed, document id, position), so it does not depend on which batch, thread,
 * partition or replay processes the document.
 *
 * <p>Exact definition (stable: changing it changes every edited corpus):
 * <ol>
 *   <li>{@code idHash = mix64(fnv1a64(utf8(documentId)))}, FNV-1a 64-bit over the UTF-8 bytes;</li>
 *   <li>{@code k = mix64(seed + G)}, {@code k = mix64(k ^ idHash)}, {@code k = mix64(k + G * (position + 1))}
 *       with {@code G = 0x9E3779B97F4A7C15} and 64-bit wrap-around arithmetic;</li>
 *   <li>{@code u = (k >>> 11) * 2^-53}, a double in [0, 1).</li>
 * </ol>
 * {@code mix64} is the SplitMix64 output function (Stafford's variant 13).
 */
public final class DrawKeys {

  private static final long GOLDEN = 0x9E3779B97F4A7C15L;
  private static final long FNV_OFFSET = 0xCBF29CE484222325L;
  private static final long FNV_PRIME = 0x100000001B3L;

  private DrawKeys() {
  }

  /** SplitMix64's finaliser: a bijection of 64-bit integers with full avalanche. */
  static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** A 64-bit hash of the document id's UTF-8 bytes (not {@link String#hashCode()}, which is 32-bit). */
  public static long idHash(String documentId) {
    long h = FNV_OFFSET;
    for (byte b : documentId.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xFF;
      h *= FNV_PRIME;
    }
    return mix64(h);
  }

  /** The uniform draw in [0, 1) for one (seed, document, position). */
  public static double uniform(long seed, long idHash, int position) {
    long k = mix64(seed + GOLDEN);
    k = mix64(k ^ idHash);
    k = mix64(k + GOLDEN * (position + 1L));
    return (k >>> 11) * 0x1.0p-53;
  }

  /** Convenience for {@code uniform(seed, idHash(documentId), position)}. */
  public static double uniform(long seed, String documentId, int position) {
    return uniform(seed, idHash(documentId), position);
  }
}
