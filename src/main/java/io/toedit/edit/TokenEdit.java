package io.toedit.edit;

/**
 * One edit of one token. {@code newId} is -1 and {@code newPiece} empty when the token was deleted.
 * Character offsets index the original text.
 */
public record TokenEdit(int position, int charStart, int charEnd, int originalId, String originalPiece,
    int newId, String newPiece, float probOriginal) {

  public boolean isDeletion() {
    return newId < 0;
  }
}
