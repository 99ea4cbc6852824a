package io.toedit.edit;

/**
 * One edit of one token. {@code newId} is -1 and {@code newPiece} empty when the token was deleted.
 * {@code newPiece} is the inserted text: exactly the drawn token's bytes as UTF-8 (not its raw
 * vocabulary piece). Character offsets index the original text. A partial-character group replaced
 * as a whole is one edit at the group's first position whose span covers the whole group; a group
 * deleted as a whole is one deletion per position, all with the group's span.
 */
public record TokenEdit(int position, int charStart, int charEnd, int originalId, String originalPiece,
    int newId, String newPiece, float probOriginal) {

  public boolean isDeletion() {
    return newId < 0;
  }
}
