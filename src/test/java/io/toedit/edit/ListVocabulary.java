package io.toedit.edit;

import io.toedit.text.Vocabulary;
import java.util.List;

/** A hand-written vocabulary for unit tests: ids 0-2 are {@code <unk> <s> </s>}, surfaces as in SentencePiece. */
final class ListVocabulary implements Vocabulary {

  private final List<String> pieces;

  ListVocabulary(List<String> pieces) {
    this.pieces = pieces;
  }

  static ListVocabulary of(String... userPieces) {
    String[] all = new String[userPieces.length + 3];
    all[0] = "<unk>";
    all[1] = "<s>";
    all[2] = "</s>";
    System.arraycopy(userPieces, 0, all, 3, userPieces.length);
    return new ListVocabulary(List.of(all));
  }

  int id(String piece) {
    int i = pieces.indexOf(piece);
    if (i < 0) {
      throw new IllegalArgumentException("no piece " + piece);
    }
    return i;
  }

  @Override
  public int size() {
    return pieces.size();
  }

  @Override
  public String piece(int id) {
    return pieces.get(id);
  }

  @Override
  public byte[] bytes(int id) {
    if (id < 0 || id >= pieces.size()) {
      return null;
    }
    String p = pieces.get(id);
    if (p.length() == 6 && p.startsWith("<0x")) {
      return new byte[] {(byte) Integer.parseInt(p.substring(3, 5), 16)};
    }
    return p.replace('\u2581', ' ').getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  @Override
  public String surface(int id) {
    if (isSpecial(id)) {
      return null;
    }
    String p = pieces.get(id);
    if (p.length() == 6 && p.startsWith("<0x")) {
      int b = Integer.parseInt(p.substring(3, 5), 16);
      return b < 0x80 ? String.valueOf((char) b) : null;
    }
    return p.replace('\u2581', ' ');
  }

  @Override
  public boolean isSpecial(int id) {
    return id < 3;
  }

  @Override
  public int bosId() {
    return 1;
  }

  @Override
  public int eosId() {
    return 2;
  }
}
