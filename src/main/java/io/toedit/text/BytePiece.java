package io.toedit.text;

/**
 * Byte-fallback pieces of SentencePiece-style vocabularies: {@code <0xNN>} stands for the single
 * byte {@code NN} of a UTF-8 text.
 */
public final class BytePiece {

  private BytePiece() {
  }

  /** The byte a {@code <0xNN>} piece stands for (0-255), or -1 for any other piece (or null). */
  public static int byteValue(String piece) {
    if (piece == null || piece.length() != 6 || !piece.startsWith("<0x") || !piece.endsWith(">")) {
      return -1;
    }
    int hi = Character.digit(piece.charAt(3), 16);
    int lo = Character.digit(piece.charAt(4), 16);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
  }
}
