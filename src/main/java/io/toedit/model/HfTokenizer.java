package io.toedit.model;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.text.ContextToken;
import io.toedit.text.TextTokenizer;
import io.toedit.text.Tokenized;
import io.toedit.text.Vocabulary;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * A Hugging Face {@code tokenizer.json} through DJL's tokenizers binding, with truncation off
 * (DJL's default silently truncates at {@code model_max_length}) and without the post-processor's
 * special tokens: the {@link ContextToken} is prepended here, by one rule (see {@link HfVocabulary}).
 *
 * <h2>Spans</h2>
 * Token spans come from the token bytes, not from DJL's offsets: when the tokens' bytes, in order,
 * are exactly the UTF-8 of the text (after the decoder's leading strip, SentencePiece's dummy-prefix
 * space), each token's byte span is known exactly. A run of tokens whose boundaries fall inside a
 * UTF-8 character (byte-fallback pieces, or byte-level pieces that split an emoji or a CJK character)
 * shares the character span of the whole run, so it is edited only as a whole or left alone. When the
 * bytes are not the text (the tokenizer normalised it, e.g. Qwen's NFC on NFD input, or an unknown
 * token), the spans are DJL's character offsets, and the editor edits only tokens whose bytes equal
 * their span's text.
 *
 * <h2>Speed</h2>
 * DJL's {@code HuggingFaceTokenizer.encode} copies every field of the encoding into Java objects
 * (token strings, word ids, masks, a {@code CharSpan} per token), about 60 % of its time on short
 * stories; this class only needs the ids, and the character spans when the bytes disagree. So when
 * DJL prepares the text in no way (no prefix space, lower-casing or accent stripping from the tokenizer
 * configuration) it calls the same native encode directly and reads the ids alone, and the spans
 * only when needed: the same ids and spans ({@code HfTokenizerTest} compares both paths), 2-3x faster.
 */
public final class HfTokenizer implements TextTokenizer {

  private final HuggingFaceTokenizer tokenizer;
  private final HfVocabulary vocabulary;
  /** Whether {@link #encode} calls the native encode directly (see "Speed"); otherwise through DJL's Encoding. */
  private final boolean direct;
  /** DJL's add-special-tokens setting of this tokenizer, passed to the native encode as DJL does. */
  private final boolean addSpecialTokens;

  private HfTokenizer(HuggingFaceTokenizer tokenizer, HfVocabulary vocabulary) {
    this.tokenizer = tokenizer;
    this.vocabulary = vocabulary;
    Boolean special = directEncodeSpecialTokens(tokenizer);
    this.direct = special != null;
    this.addSpecialTokens = special != null && special;
  }

  /**
   * DJL's {@code addSpecialTokens} when DJL would hand the text to the native encode unchanged (its
   * {@code addPrefixSpace}, {@code doLowerCase} and {@code stripAccents} all off), else {@code null}:
   * then, or when these private fields cannot be read (another DJL version), DJL's own encode is used.
   */
  static Boolean directEncodeSpecialTokens(HuggingFaceTokenizer tokenizer) {
    try {
      Class<?> c = HuggingFaceTokenizer.class;
      java.lang.reflect.Field prefix = c.getDeclaredField("addPrefixSpace");
      java.lang.reflect.Field lower = c.getDeclaredField("doLowerCase");
      java.lang.reflect.Field accents = c.getDeclaredField("stripAccents");
      java.lang.reflect.Field special = c.getDeclaredField("addSpecialTokens");
      for (java.lang.reflect.Field f : new java.lang.reflect.Field[] {prefix, lower, accents, special}) {
        f.setAccessible(true);
      }
      if (prefix.getBoolean(tokenizer) || lower.get(tokenizer) != null || accents.getBoolean(tokenizer)) {
        return null;
      }
      return special.getBoolean(tokenizer);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  /** Whether {@link #encode} takes the direct native path (test aid). */
  boolean direct() {
    return direct;
  }

  /**
   * Loads {@code dir/tokenizer.json}, with {@code dir/tokenizer_config.json} and {@code dir/config.json}
   * when present (their BOS/EOS/pad/unk tokens are special too).
   *
   * @throws IllegalArgumentException for a missing {@code tokenizer.json}, an unsupported model,
   *     decoder or post-processor type, or no context token, naming the file and the field
   */
  public static HfTokenizer open(Path dir) {
    Path file = dir.resolve("tokenizer.json");
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("Missing tokenizer file: " + file
          + " (a Hugging Face model folder needs tokenizer.json)");
    }
    HfVocabulary vocab = HfVocabulary.read(readJson(file), readJsonIfPresent(dir.resolve("tokenizer_config.json")),
        readJsonIfPresent(dir.resolve("config.json")), dir.toString());
    try {
      HuggingFaceTokenizer tok = HuggingFaceTokenizer.builder()
          .optTokenizerPath(dir)
          .optTruncation(false)
          .optAddSpecialTokens(false)
          .build();
      return new HfTokenizer(tok, vocab);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot load tokenizer " + file, e);
    }
  }

  private static JsonNode readJson(Path file) {
    try {
      return new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot parse " + file + " as JSON", e);
    }
  }

  private static JsonNode readJsonIfPresent(Path file) {
    return Files.isRegularFile(file) ? readJson(file) : null;
  }

  @Override
  public Tokenized encode(String text) {
    if (!direct) {
      return encodeThroughDjl(text);
    }
    if (text == null) {
      throw new NullPointerException("text cannot be null");
    }
    TokenizersLibrary lib = TokenizersLibrary.LIB;
    long enc = lib.encode(tokenizer.getHandle(), text, addSpecialTokens);
    try {
      return tokenized(text, lib.getTokenIds(enc), () -> lib.getTokenCharSpans(enc));
    } finally {
      lib.deleteEncoding(enc);
    }
  }

  /** {@link #encode} through DJL's {@code HuggingFaceTokenizer.encode} (every field of the encoding copied). */
  Tokenized encodeThroughDjl(String text) {
    Encoding enc = tokenizer.encode(text);
    return tokenized(text, enc.getIds(), enc::getCharTokenSpans);
  }

  /** BOS then {@code raw}; spans from the token bytes, or from the encoding's char spans when those disagree. */
  private Tokenized tokenized(String text, long[] raw, Supplier<CharSpan[]> charSpans) {
    int n = raw.length + 1;
    int[] ids = new int[n];
    int[] start = new int[n];
    int[] end = new int[n];
    ids[0] = vocabulary.bosId();
    for (int i = 0; i < raw.length; i++) {
      ids[i + 1] = Math.toIntExact(raw[i]);
    }
    if (!byteSpans(text, ids, start, end)) {
      djlSpans(text, charSpans.get(), start, end);
    }
    return new Tokenized(text, ids, start, end);
  }

  /**
   * Fills exact spans from the token bytes; false when the bytes, in order, are not the text's UTF-8
   * (with or without the decoder's leading strip).
   */
  private boolean byteSpans(String text, int[] ids, int[] start, int[] end) {
    int n = ids.length;
    byte[] doc = text.getBytes(StandardCharsets.UTF_8);
    byte[] strip = vocabulary.leadingStrip();
    int offset;
    if (bytesEqual(ids, new byte[0], doc)) {
      offset = 0;
    } else if (strip.length > 0 && bytesEqual(ids, strip, doc)) {
      offset = -strip.length;
    } else {
      return false;
    }
    // UTF-16 index of each byte offset that starts a character, -1 inside a character
    int[] charAt = new int[doc.length + 1];
    for (int b = 0, c = 0; c < text.length();) {
      int cp = text.codePointAt(c);
      if (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE) {
        return false; // a lone surrogate has no UTF-8 form
      }
      int len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      charAt[b] = c;
      for (int k = 1; k < len; k++) {
        charAt[b + k] = -1;
      }
      b += len;
      c += Character.charCount(cp);
    }
    charAt[doc.length] = text.length();
    int pos = offset;
    int t = 1;
    while (t < n) {
      int groupStart = Math.max(pos, 0);
      int last = t;
      int e = pos + vocabulary.bytes(ids[t]).length;
      while (e > 0 && charAt[e] < 0 && last + 1 < n) {
        last++;
        e += vocabulary.bytes(ids[last]).length;
      }
      int cs = charAt[groupStart];
      int ce = charAt[Math.max(e, 0)];
      for (int k = t; k <= last; k++) {
        start[k] = cs;
        end[k] = ce;
      }
      pos = e;
      t = last + 1;
    }
    return true;
  }

  /** True when {@code prefix} followed by {@code doc} is exactly the concatenated bytes of {@code ids[1..]}. */
  private boolean bytesEqual(int[] ids, byte[] prefix, byte[] doc) {
    int at = 0;
    int total = prefix.length + doc.length;
    for (int t = 1; t < ids.length; t++) {
      byte[] b = vocabulary.bytes(ids[t]);
      if (b == null || at + b.length > total) {
        return false;
      }
      for (byte x : b) {
        byte want = at < prefix.length ? prefix[at] : doc[at - prefix.length];
        if (x != want) {
          return false;
        }
        at++;
      }
    }
    return at == total;
  }

  /** DJL's character offsets (code points, mapped to UTF-16 indices): a hint used only when bytes disagree. */
  private static void djlSpans(String text, CharSpan[] spans, int[] start, int[] end) {
    int[] utf16 = codePointToUtf16(text);
    for (int t = 1; t < start.length; t++) {
      CharSpan s = spans[t - 1];
      if (s != null) {
        start[t] = utf16 == null ? s.getStart() : utf16[s.getStart()];
        end[t] = utf16 == null ? s.getEnd() : utf16[s.getEnd()];
      } else {
        start[t] = t > 1 ? end[t - 1] : 0;
        end[t] = start[t];
      }
    }
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
  public ContextToken contextToken() {
    return vocabulary.context();
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
