package io.toedit.model;

import com.fasterxml.jackson.databind.JsonNode;
import io.toedit.text.BytePiece;
import io.toedit.text.ContextToken;
import io.toedit.text.Vocabulary;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The vocabulary of a Hugging Face tokenizer folder: for every id its piece, the exact bytes the
 * tokenizer's own decoder writes for it, whether it is special, and the context token.
 *
 * <p>Bytes are derived from {@code tokenizer.json}'s {@code decoder} the way the Hugging Face
 * tokenizers library applies it, token by token: {@code ByteLevel} (the GPT-2 byte/unicode table),
 * {@code Metaspace} and {@code Replace} ({@code ▁} to a space), {@code ByteFallback} ({@code <0xNN>}
 * to one byte), {@code Strip}, nested in a {@code Sequence}. What a decoder does only to the whole
 * text ({@code Strip} after {@code Fuse}, {@code Metaspace}'s prefix space) is the
 * {@link #leadingStrip()}: bytes the first token carries that are not in the text. Any other decoder
 * or model type is an error at load time naming the file and the field.
 */
final class HfVocabulary implements Vocabulary {

  private final String[] pieces;
  private final byte[][] bytes;
  private final String[] surfaces;
  private final boolean[] special;
  private final ContextToken context;
  private final int eos;
  private final byte[] leadingStrip;

  private HfVocabulary(String[] pieces, byte[][] bytes, boolean[] special, ContextToken context, int eos,
      byte[] leadingStrip) {
    this.pieces = pieces;
    this.bytes = bytes;
    this.special = special;
    this.context = context;
    this.eos = eos;
    this.leadingStrip = leadingStrip;
    this.surfaces = new String[pieces.length];
    for (int i = 0; i < pieces.length; i++) {
      surfaces[i] = special[i] || bytes[i] == null ? null : utf8OrNull(bytes[i]);
    }
  }

  /**
   * Reads the vocabulary.
   *
   * @param tokenizer the parsed {@code tokenizer.json}
   * @param tokenizerConfig the parsed {@code tokenizer_config.json}, or {@code null} when absent
   * @param config the parsed {@code config.json}, or {@code null} when absent
   * @param dir the folder, for messages
   */
  static HfVocabulary read(JsonNode tokenizer, JsonNode tokenizerConfig, JsonNode config, String dir) {
    String file = dir + "/tokenizer.json";
    JsonNode model = tokenizer.path("model");
    String type = model.path("type").asText("");
    Map<Integer, String> byId = new HashMap<>();
    int size = 0;
    if (type.equals("BPE") || type.isEmpty() && model.path("vocab").isObject()) {
      JsonNode vocab = model.path("vocab");
      if (!vocab.isObject()) {
        throw new IllegalArgumentException(file + ": field 'model.vocab' is missing or not an object");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext();) {
        Map.Entry<String, JsonNode> e = it.next();
        int id = e.getValue().asInt(-1);
        if (id < 0) {
          throw new IllegalArgumentException(file + ": field 'model.vocab' maps '" + e.getKey() + "' to " + e.getValue());
        }
        byId.put(id, e.getKey());
        size = Math.max(size, id + 1);
      }
    } else if (type.equals("Unigram")) {
      JsonNode vocab = model.path("vocab");
      if (!vocab.isArray()) {
        throw new IllegalArgumentException(file + ": field 'model.vocab' of a Unigram model is not a list");
      }
      for (int id = 0; id < vocab.size(); id++) {
        byId.put(id, vocab.get(id).path(0).asText());
      }
      size = vocab.size();
    } else {
      throw new IllegalArgumentException(file + ": field 'model.type' is '" + type
          + "', which is not supported (supported: BPE, Unigram)");
    }
    Map<String, Integer> added = new HashMap<>();
    List<int[]> specials = new ArrayList<>();
    for (JsonNode a : tokenizer.path("added_tokens")) {
      int id = a.path("id").asInt(-1);
      if (id < 0 || !a.path("content").isTextual()) {
        throw new IllegalArgumentException(file + ": field 'added_tokens' has an entry without id or content: " + a);
      }
      byId.put(id, a.path("content").asText());
      added.put(a.path("content").asText(), id);
      size = Math.max(size, id + 1);
      if (a.path("special").asBoolean(false)) {
        specials.add(new int[] {id});
      }
    }
    Decoder decoder = Decoder.parse(tokenizer.get("decoder"), file);
    String[] pieces = new String[size];
    byte[][] bytes = new byte[size][];
    boolean[] special = new boolean[size];
    for (int id = 0; id < size; id++) {
      String p = byId.get(id);
      if (p == null) {
        pieces[id] = "";
        special[id] = true; // a hole: no text, never drawn
      } else {
        pieces[id] = p;
        bytes[id] = added.containsKey(p) && added.get(p) == id
            ? p.getBytes(StandardCharsets.UTF_8) : decoder.bytes(p);
      }
    }
    for (int[] ids : specials) {
      special[ids[0]] = true;
    }
    String cfgFile = dir + "/config.json";
    int[] eosIds = new int[0];
    if (config != null) {
      for (String field : List.of("bos_token_id", "eos_token_id", "pad_token_id")) {
        int[] ids = TokenIds.read(config, field, cfgFile);
        for (int id : ids) {
          if (id < size) {
            special[id] = true;
          }
        }
        if (field.equals("eos_token_id")) {
          eosIds = ids;
        }
      }
    }
    String tcFile = dir + "/tokenizer_config.json";
    if (tokenizerConfig != null) {
      for (String field : List.of("bos_token", "eos_token", "unk_token", "pad_token")) {
        Integer id = tokenId(tokenizerConfig.get(field), added, byId);
        if (id != null) {
          special[id] = true;
        }
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = tokenizerConfig.path("added_tokens_decoder").fields();
          it.hasNext();) {
        Map.Entry<String, JsonNode> e = it.next();
        try {
          int id = Integer.parseInt(e.getKey());
          if (id < size && e.getValue().path("special").asBoolean(false)) {
            special[id] = true;
          }
        } catch (NumberFormatException ex) {
          throw new IllegalArgumentException(tcFile + ": field 'added_tokens_decoder' has a key that is not an id: "
              + e.getKey(), ex);
        }
      }
    }
    ContextToken context = contextToken(tokenizer.path("post_processor"), config, tokenizerConfig, added, byId,
        pieces, file, dir);
    special[context.id()] = true;
    int eos = eosIds.length > 0 ? eosIds[0] : -1;
    if (eos < 0 && tokenizerConfig != null) {
      Integer id = tokenId(tokenizerConfig.get("eos_token"), added, byId);
      eos = id == null ? -1 : id;
    }
    return new HfVocabulary(pieces, bytes, special, context, eos, decoder.leadingStrip());
  }

  /** A tokenizer_config token: a string or {"content": ...}; its id among the added tokens or the vocabulary. */
  private static Integer tokenId(JsonNode v, Map<String, Integer> added, Map<Integer, String> byId) {
    if (v == null || v.isNull()) {
      return null;
    }
    String content = v.isTextual() ? v.asText() : v.path("content").asText(null);
    if (content == null) {
      return null;
    }
    Integer id = added.get(content);
    if (id != null) {
      return id;
    }
    for (Map.Entry<Integer, String> e : byId.entrySet()) {
      if (e.getValue().equals(content)) {
        return e.getKey();
      }
    }
    return null;
  }

  /**
   * The context token: the BOS the post-processor adds; where it adds none, {@code config.json}'s
   * {@code bos_token_id} (the document separator, e.g. Qwen's {@code <|endoftext|>}), then
   * {@code tokenizer_config.json}'s {@code bos_token}.
   */
  private static ContextToken contextToken(JsonNode post, JsonNode config, JsonNode tokenizerConfig,
      Map<String, Integer> added, Map<Integer, String> byId, String[] pieces, String file, String dir) {
    Integer id = postProcessorBos(post, file);
    String source = "tokenizer.json post_processor";
    if (id == null && config != null) {
      int[] bos = TokenIds.read(config, "bos_token_id", dir + "/config.json");
      if (bos.length > 0) {
        id = bos[0];
        source = "config.json bos_token_id (the tokenizer adds no BOS)";
      }
    }
    if (id == null && tokenizerConfig != null) {
      id = tokenId(tokenizerConfig.get("bos_token"), added, byId);
      source = "tokenizer_config.json bos_token (the tokenizer adds no BOS)";
    }
    if (id == null) {
      throw new IllegalArgumentException(file + ": field 'post_processor' adds no BOS, and neither config.json "
          + "bos_token_id nor tokenizer_config.json bos_token names one: no context token to score the first token "
          + "of a document with (set bos_token_id in " + dir + "/config.json to the model's document separator)");
    }
    if (id < 0 || id >= pieces.length || byId.get(id) == null) {
      throw new IllegalArgumentException(dir + ": the context token id " + id + " (" + source
          + ") is not a token of tokenizer.json");
    }
    return new ContextToken(id, pieces[id], source);
  }

  private static Integer postProcessorBos(JsonNode post, String file) {
    if (post == null || post.isNull() || post.isMissingNode()) {
      return null;
    }
    String type = post.path("type").asText("");
    switch (type) {
      case "TemplateProcessing": {
        JsonNode first = post.path("single").path(0);
        if (!first.has("SpecialToken")) {
          return null;
        }
        String name = first.path("SpecialToken").path("id").asText();
        JsonNode ids = post.path("special_tokens").path(name).path("ids");
        if (!ids.isArray() || ids.size() != 1 || !ids.get(0).canConvertToInt()) {
          throw new IllegalArgumentException(file + ": field 'post_processor.special_tokens." + name
              + ".ids' must hold exactly one id, got " + ids);
        }
        return ids.get(0).asInt();
      }
      case "BertProcessing":
      case "RobertaProcessing":
        return post.path("cls").path(1).asInt();
      case "Sequence":
        for (JsonNode p : post.path("processors")) {
          Integer id = postProcessorBos(p, file);
          if (id != null) {
            return id;
          }
        }
        return null;
      case "ByteLevel":
        return null;
      default:
        throw new IllegalArgumentException(file + ": field 'post_processor.type' is '" + type
            + "', which is not supported (supported: TemplateProcessing, ByteLevel, BertProcessing, "
            + "RobertaProcessing, Sequence)");
    }
  }

  private static String utf8OrNull(byte[] b) {
    if (b.length == 0) {
      return null;
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /** Bytes every decoded document loses at its start (SentencePiece's dummy-prefix space), else empty. */
  byte[] leadingStrip() {
    return leadingStrip;
  }

  ContextToken context() {
    return context;
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
  public byte[] bytes(int id) {
    return id >= 0 && id < bytes.length ? bytes[id] : null;
  }

  @Override
  public String surface(int id) {
    return id >= 0 && id < surfaces.length ? surfaces[id] : null;
  }

  @Override
  public boolean isSpecial(int id) {
    return id < 0 || id >= special.length || special[id];
  }

  @Override
  public int bosId() {
    return context.id();
  }

  @Override
  public int eosId() {
    return eos;
  }

  /** The per-token part of a {@code tokenizer.json} decoder, and what it strips from a whole text. */
  static final class Decoder {
    private final List<JsonNode> steps = new ArrayList<>();
    private byte[] leadingStrip = new byte[0];
    private boolean fused;

    static Decoder parse(JsonNode node, String file) {
      if (node == null || node.isNull() || node.isMissingNode()) {
        throw new IllegalArgumentException(file + ": field 'decoder' is missing: the bytes of a token cannot be "
            + "known without it (supported: ByteLevel, Metaspace, Sequence of Replace, ByteFallback, Fuse, Strip)");
      }
      Decoder d = new Decoder();
      d.add(node, "decoder", file);
      return d;
    }

    private void add(JsonNode node, String path, String file) {
      String type = node.path("type").asText("");
      switch (type) {
        case "Sequence": {
          int i = 0;
          for (JsonNode child : node.path("decoders")) {
            add(child, path + ".decoders[" + i++ + "]", file);
          }
          return;
        }
        case "Fuse":
          fused = true;
          return;
        case "Replace": {
          JsonNode pattern = node.path("pattern");
          if (!pattern.path("String").isTextual()) {
            throw new IllegalArgumentException(file + ": field '" + path + ".pattern' is " + pattern
                + ": only a String pattern is supported, not a Regex");
          }
          break;
        }
        case "Strip":
          if (fused) {
            if (node.path("stop").asInt(0) != 0) {
              throw new IllegalArgumentException(file + ": field '" + path + ".stop' is " + node.path("stop")
                  + ": stripping the end of a fused text is not supported");
            }
            leadingStrip = node.path("content").asText(" ").repeat(node.path("start").asInt(0))
                .getBytes(StandardCharsets.UTF_8);
            return;
          }
          break;
        case "Metaspace": {
          String scheme = node.path("prepend_scheme").asText(node.path("add_prefix_space").asBoolean(true)
              ? "always" : "never");
          if (!scheme.equals("never")) {
            leadingStrip = " ".getBytes(StandardCharsets.UTF_8);
          }
          break;
        }
        case "ByteLevel":
        case "ByteFallback":
          break;
        default:
          throw new IllegalArgumentException(file + ": field '" + path + ".type' is '" + type
              + "', which is not supported (supported: ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, "
              + "Sequence)");
      }
      if (fused) {
        throw new IllegalArgumentException(file + ": field '" + path + ".type' is '" + type
            + "' after Fuse: only Strip of the leading characters is supported there");
      }
      steps.add(node);
    }

    byte[] leadingStrip() {
      return leadingStrip;
    }

    /** The bytes of one piece: the per-token steps, in order; text still unconverted at the end is UTF-8. */
    byte[] bytes(String piece) {
      String text = piece;
      byte[] raw = null;
      for (JsonNode step : steps) {
        if (raw != null) {
          break; // a byte token: later string steps do not apply to it
        }
        switch (step.path("type").asText()) {
          case "Replace":
            text = text.replace(step.path("pattern").path("String").asText(), step.path("content").asText());
            break;
          case "Metaspace":
            text = text.replace(step.path("replacement").asText("\u2581"), " ");
            break;
          case "ByteFallback": {
            int b = BytePiece.byteValue(text);
            if (b >= 0) {
              raw = new byte[] {(byte) b};
            }
            break;
          }
          case "ByteLevel":
            raw = ByteLevel.decode(text);
            break;
          case "Strip": {
            String c = step.path("content").asText(" ");
            int start = step.path("start").asInt(0);
            int stop = step.path("stop").asInt(0);
            for (int i = 0; i < start && text.startsWith(c); i++) {
              text = text.substring(c.length());
            }
            for (int i = 0; i < stop && text.endsWith(c); i++) {
              text = text.substring(0, text.length() - c.length());
            }
            break;
          }
          default:
            throw new IllegalStateException("unreachable: " + step);
        }
      }
      return raw != null ? raw : text.getBytes(StandardCharsets.UTF_8);
    }
  }

  /** GPT-2's reversible byte/unicode table: every byte is one printable character. */
  static final class ByteLevel {
    private static final int[] CHAR_TO_BYTE = new int[324];

    static {
      java.util.Arrays.fill(CHAR_TO_BYTE, -1);
      int n = 0;
      for (int b = 0; b < 256; b++) {
        boolean printable = b >= 33 && b <= 126 || b >= 161 && b <= 172 || b >= 174;
        CHAR_TO_BYTE[printable ? b : 256 + n++] = b;
      }
    }

    private ByteLevel() {
    }

    /** The bytes of a piece, or its UTF-8 when a character is outside the table (as the HF decoder does). */
    static byte[] decode(String piece) {
      ByteArrayOutputStream out = new ByteArrayOutputStream(piece.length());
      for (int i = 0; i < piece.length(); i++) {
        char c = piece.charAt(i);
        int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
        if (b < 0) {
          return piece.getBytes(StandardCharsets.UTF_8);
        }
        out.write(b);
      }
      return out.toByteArray();
    }
  }
}
