package io.toedit.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class BytePieceTest {

  @Test
  void shouldParseByteFallbackPiecesOnly() {
    assertEquals(0xE7, BytePiece.byteValue("<0xE7>"));
    assertEquals(0x0A, BytePiece.byteValue("<0x0a>"));
    assertEquals(0, BytePiece.byteValue("<0x00>"));
    assertEquals(-1, BytePiece.byteValue("<0xZZ>"));
    assertEquals(-1, BytePiece.byteValue("<0xE7"));
    assertEquals(-1, BytePiece.byteValue("▁the"));
    assertEquals(-1, BytePiece.byteValue("<0x100>"));
    assertEquals(-1, BytePiece.byteValue(null));
  }
}
