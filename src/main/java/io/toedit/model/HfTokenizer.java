package io.toedit.model;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.text.BytePiece;
import io.toedit.text.TextTokenizer;
import io.toedit.text.Tokenized;
import io.toedit.text.Vocabulary;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} through DJL's tokenizers binding, with truncation off
 * (DJL's default silently truncates at {@code model_max_length}).
 */
public final class HfTokenizer implements TextTokenizer {

  private final HuggingFaceTokenizer tokenizer;
  private final HfVocabulary vocabulary;

  private HfTokenizer(HuggingFaceTokenizer tokenizer, HfVocabulary vocabulary) {
    this.tokenizer = tokenizer;
    this.vocabulary = vocabulary;
  }

  /** Loads {@code dir/tokenizer.json}; {@code bosId}/{@code eosId} come from the model config. */
  public static HfTokenizer open(Path dir, int bosId, int eosId) {
    Path file = dir.resolve("tokenizer.json");
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("Missing tokenizer file: " + file
          + " (a Hugging Face model folder needs tokenizer.json)");
    }
    HfVocabulary vocab = HfVocabulary.read(file, bosId, eosId);
    try {
      HuggingFaceTokenizer tok = HuggingFaceTokenizer.builder()
          .optTokenizerPath(dir)
          .optTruncation(false)
          .optAddSpecialTokens(true)
          .build();
      return new HfTokenizer(tok, vocab);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot load tokenizer " + file, e);
    }
  }

  @Override
  public Tokenized encode(String text) {
    Encoding enc = tokenizer.encode(text);
    long[] raw = enc.getIds();
    CharSpan[] spans = enc.getCharTokenSpans();
    boolean hasBos = raw.length > 0 && raw[0] == vocabulary.bosId();
    int n = raw.length + (hasBos ? 0 : 1);
    int[] ids = new int[n];
    int[] start = new int[n];
    int[] end = new int[n];
    ids[0] = vocabulary.bosId();
    int[] utf16 = codePointToUtf16(text);
    int off = hasBos ? 0 : 1;
    for (int i = hasBos ? 1 : 0; i < raw.length; i++) {
      int t = i + off;
      ids[t] = Math.toIntExact(raw[i]);
      CharSpan s = spans[i];
      if (s != null) {
        // The Rust tokenizer reports offsets in Unicode scalar values; Tokenized uses String indices.
        start[t] = utf16 == null ? s.getStart() : utf16[s.getStart()];
        end[t] = utf16 == null ? s.getEnd() : utf16[s.getEnd()];
      } else {
        start[t] = t > 1 ? end[t - 1] : 0;
        end[t] = start[t];
      }
    }
    return new Tokenized(text, ids, start, end);
  }

  /** Maps code-point offsets to UTF-16 offsets, or {@code null} when they coincide (no surrogates). */
  private static int[] codePointToUtf16(String text) {
    int cps = text.codePointCount(0, text.length());
    if (cps == text.length()) {
      return null;
    }
    int[] map = new int[cps + 1];
    int i = 0;
    for (int cp = 0; cp < cps; cp++) {
      map[cp] = i;
      i += Character.charCount(text.codePointAt(i));
    }
    map[cps] = text.length();
    return map;
  }

  @Override
  public Vocabulary vocabulary() {
    return vocabulary;
  }

  @Override
  public void close() {
    tokenizer.close();
  }

  /** The vocabulary read from {@code tokenizer.json}: pieces, byte-fallback and special tokens. */
  static final class HfVocabulary implements Vocabulary {
    private final String[] pieces;
    private final String[] surfaces;
    private final boolean[] special;
    private final int bos;
    private final int eos;

    private HfVocabulary(String[] pieces, boolean[] special, int bos, int eos) {
      this.pieces = pieces;
      this.special = special;
      this.bos = bos;
      this.eos = eos;
      this.surfaces = new String[pieces.length];
      for (int i = 0; i < pieces.length; i++) {
        surfaces[i] = computeSurface(pieces[i], special[i]);
      }
    }

    static HfVocabulary read(Path file, int bos, int eos) {
      try {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        JsonNode vocab = root.path("model").path("vocab");
        if (!vocab.isObject()) {
          throw new IllegalArgumentException(file + ": field model.vocab is missing or not an object"
              + " (only BPE/Unigram-with-vocab-map tokenizers are supported)");
        }
        int size = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext();) {
          size = Math.max(size, it.next().getValue().asInt() + 1);
        }
        for (JsonNode added : root.path("added_tokens")) {
          size = Math.max(size, added.path("id").asInt() + 1);
        }
        String[] pieces = new String[size];
        boolean[] special = new boolean[size];
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext();) {
          Map.Entry<String, JsonNode> e = it.next();
          pieces[e.getValue().asInt()] = e.getKey();
        }
        for (JsonNode added : root.path("added_tokens")) {
          int id = added.path("id").asInt();
          pieces[id] = added.path("content").asText();
          special[id] = added.path("special").asBoolean(false);
        }
        for (int i = 0; i < size; i++) {
          if (pieces[i] == null) {
            pieces[i] = "";
            special[i] = true;
          }
        }
        if (bos >= 0 && bos < size) {
          special[bos] = true;
        }
        if (eos >= 0 && eos < size) {
          special[eos] = true;
        }
        return new HfVocabulary(pieces, special, bos, eos);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot read " + file, e);
      }
    }

    private static String computeSurface(String piece, boolean special) {
      if (special) {
        return null;
      }
      int b = BytePiece.byteValue(piece);
      if (b >= 0) {
        // A byte >= 0x80 is only part of a UTF-8 character: not text on its own.
        return b < 0x80 ? String.valueOf((char) b) : null;
      }
      return piece.replace('\u2581', ' ');
    }

    @Override
    public int size() {
      return pieces.length;
    }

    @Override
    public String piece(int id) {
      return pieces[id];
    }

    @Override
    public String surface(int id) {
      return surfaces[id];
    }

    @Override
    public boolean isSpecial(int id) {
      return special[id];
    }

    @Override
    public int bosId() {
      return bos;
    }

    @Override
    public int eosId() {
      return eos;
    }
  }
}
