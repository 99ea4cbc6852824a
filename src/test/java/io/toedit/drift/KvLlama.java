package io.toedit.drift;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A plain-Java Llama forward with a KV cache, for test-data generation only: F32 safetensors,
 * HF conventions (rotate_half RoPE, tied head), one token at a time. The project's {@code Scorer}
 * is a teacher-forced batch scorer without a cache; sampling hundreds of tokens by re-scoring the
 * growing prefix with it measured about 300 tokens/s on the shared 2-core machine (24 x 300 ids
 * per call took 18-30 s), hours for the samples. This class is checked against the float64 golden
 * log-probs and the golden 200-step greedy decode ({@code KvLlamaTest}). Not thread-safe.
 */
final class KvLlama {

  final int dim;
  final int hidden;
  final int layers;
  final int heads;
  final int kvHeads;
  final int headDim;
  final int vocab;
  final int maxPos;
  private final float eps;
  private final float[] invFreq;
  private final float[] embed;
  private final float[][] wq;
  private final float[][] wk;
  private final float[][] wv;
  private final float[][] wo;
  private final float[][] w1;
  private final float[][] w3;
  private final float[][] w2;
  private final float[][] attnNorm;
  private final float[][] ffnNorm;
  private final float[] finalNorm;
  // state
  private final float[][] keyCache;
  private final float[][] valueCache;
  private int pos;

  KvLlama(Path dir) throws IOException {
    ObjectMapper json = new ObjectMapper();
    JsonNode c = json.readTree(dir.resolve("config.json").toFile());
    dim = c.get("hidden_size").asInt();
    hidden = c.get("intermediate_size").asInt();
    layers = c.get("num_hidden_layers").asInt();
    heads = c.get("num_attention_heads").asInt();
    kvHeads = c.get("num_key_value_heads").asInt();
    headDim = c.path("head_dim").asInt(dim / heads);
    vocab = c.get("vocab_size").asInt();
    maxPos = c.get("max_position_embeddings").asInt();
    eps = (float) c.get("rms_norm_eps").asDouble();
    double theta = c.path("rope_theta").asDouble(10000);
    invFreq = new float[headDim / 2];
    for (int i = 0; i < invFreq.length; i++) {
      invFreq[i] = (float) Math.pow(theta, -2.0 * i / headDim);
    }
    byte[] file = Files.readAllBytes(dir.resolve("model.safetensors"));
    ByteBuffer buf = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    int headerLen = (int) buf.getLong(0);
    JsonNode header = json.readTree(new String(file, 8, headerLen, StandardCharsets.UTF_8));
    int base = 8 + headerLen;
    java.util.function.Function<String, float[]> t = name -> {
      JsonNode e = header.get(name);
      if (e == null || !"F32".equals(e.get("dtype").asText())) {
        throw new IllegalStateException("missing F32 tensor " + name);
      }
      int from = base + e.get("data_offsets").get(0).asInt();
      int to = base + e.get("data_offsets").get(1).asInt();
      float[] out = new float[(to - from) / 4];
      buf.slice(from, to - from).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
      return out;
    };
    embed = t.apply("model.embed_tokens.weight");
    wq = new float[layers][];
    wk = new float[layers][];
    wv = new float[layers][];
    wo = new float[layers][];
    w1 = new float[layers][];
    w3 = new float[layers][];
    w2 = new float[layers][];
    attnNorm = new float[layers][];
    ffnNorm = new float[layers][];
    for (int l = 0; l < layers; l++) {
      String p = "model.layers." + l + ".";
      wq[l] = t.apply(p + "self_attn.q_proj.weight");
      wk[l] = t.apply(p + "self_attn.k_proj.weight");
      wv[l] = t.apply(p + "self_attn.v_proj.weight");
      wo[l] = t.apply(p + "self_attn.o_proj.weight");
      w1[l] = t.apply(p + "mlp.gate_proj.weight");
      w3[l] = t.apply(p + "mlp.up_proj.weight");
      w2[l] = t.apply(p + "mlp.down_proj.weight");
      attnNorm[l] = t.apply(p + "input_layernorm.weight");
      ffnNorm[l] = t.apply(p + "post_attention_layernorm.weight");
    }
    finalNorm = t.apply("model.norm.weight");
    keyCache = new float[layers][maxPos * kvHeads * headDim];
    valueCache = new float[layers][maxPos * kvHeads * headDim];
  }

  void reset() {
    pos = 0;
  }

  int position() {
    return pos;
  }

  /** Feeds one token at the next position; returns the next-token log-probabilities [vocab]. */
  double[] next(int token) {
    if (pos >= maxPos) {
      throw new IllegalStateException("context of " + maxPos + " tokens is full");
    }
    float[] x = Arrays.copyOfRange(embed, token * dim, token * dim + dim); // [dim]
    float[] xb = new float[dim];
    float[] q = new float[heads * headDim];
    float[] att = new float[maxPos];
    float[] out = new float[heads * headDim];
    float[] h1 = new float[hidden];
    float[] h3 = new float[hidden];
    int kvDim = kvHeads * headDim;
    int group = heads / kvHeads;
    for (int l = 0; l < layers; l++) {
      rmsNorm(xb, x, attnNorm[l]);
      matVec(q, wq[l], xb, heads * headDim, dim);
      float[] k = new float[kvDim];
      float[] v = new float[kvDim];
      matVec(k, wk[l], xb, kvDim, dim);
      matVec(v, wv[l], xb, kvDim, dim);
      rope(q, heads);
      rope(k, kvHeads);
      System.arraycopy(k, 0, keyCache[l], pos * kvDim, kvDim);
      System.arraycopy(v, 0, valueCache[l], pos * kvDim, kvDim);
      float scale = (float) (1.0 / Math.sqrt(headDim));
      for (int h = 0; h < heads; h++) {
        int kvh = h / group;
        float max = Float.NEGATIVE_INFINITY;
        for (int s = 0; s <= pos; s++) {
          float dot = 0;
          int off = s * kvDim + kvh * headDim;
          for (int i = 0; i < headDim; i++) {
            dot += q[h * headDim + i] * keyCache[l][off + i];
          }
          att[s] = dot * scale;
          max = Math.max(max, att[s]);
        }
        float sum = 0;
        for (int s = 0; s <= pos; s++) {
          att[s] = (float) Math.exp(att[s] - max);
          sum += att[s];
        }
        Arrays.fill(out, h * headDim, h * headDim + headDim, 0f);
        for (int s = 0; s <= pos; s++) {
          float a = att[s] / sum;
          int off = s * kvDim + kvh * headDim;
          for (int i = 0; i < headDim; i++) {
            out[h * headDim + i] += a * valueCache[l][off + i];
          }
        }
      }
      matVec(xb, wo[l], out, dim, heads * headDim);
      for (int i = 0; i < dim; i++) {
        x[i] += xb[i];
      }
      rmsNorm(xb, x, ffnNorm[l]);
      matVec(h1, w1[l], xb, hidden, dim);
      matVec(h3, w3[l], xb, hidden, dim);
      for (int i = 0; i < hidden; i++) {
        float g = h1[i];
        h1[i] = g / (1f + (float) Math.exp(-g)) * h3[i];
      }
      matVec(xb, w2[l], h1, dim, hidden);
      for (int i = 0; i < dim; i++) {
        x[i] += xb[i];
      }
    }
    rmsNorm(xb, x, finalNorm);
    double[] logits = new double[vocab];
    double max = Double.NEGATIVE_INFINITY;
    for (int v = 0; v < vocab; v++) {
      double dot = 0;
      for (int i = 0; i < dim; i++) {
        dot += embed[v * dim + i] * xb[i];
      }
      logits[v] = dot;
      max = Math.max(max, dot);
    }
    double sum = 0;
    for (double lg : logits) {
      sum += Math.exp(lg - max);
    }
    double lse = max + Math.log(sum);
    for (int v = 0; v < vocab; v++) {
      logits[v] -= lse;
    }
    pos++;
    return logits;
  }

  /** Teacher-forced log P(ids[t] | ids[<t]) for t >= 1 (index 0 is NaN), first maxPos ids. */
  double[] logProbs(int[] ids) {
    reset();
    int n = Math.min(ids.length, maxPos);
    double[] lp = new double[n];
    lp[0] = Double.NaN;
    for (int t = 0; t + 1 < n; t++) {
      lp[t + 1] = next(ids[t])[ids[t + 1]];
    }
    return lp;
  }

  private void rope(float[] v, int nHeads) {
    int half = headDim / 2;
    for (int h = 0; h < nHeads; h++) {
      int o = h * headDim;
      for (int i = 0; i < half; i++) {
        double angle = pos * (double) invFreq[i];
        float cos = (float) Math.cos(angle);
        float sin = (float) Math.sin(angle);
        float a = v[o + i];
        float b = v[o + i + half];
        v[o + i] = a * cos - b * sin;
        v[o + i + half] = b * cos + a * sin;
      }
    }
  }

  private void rmsNorm(float[] out, float[] x, float[] w) {
    double ss = 0;
    for (float f : x) {
      ss += f * f;
    }
    float inv = (float) (1.0 / Math.sqrt(ss / x.length + eps));
    for (int i = 0; i < x.length; i++) {
      out[i] = x[i] * inv * w[i];
    }
  }

  /** out[rows] = W[rows, cols] x[cols]. */
  private static void matVec(float[] out, float[] w, float[] x, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
      float s = 0;
      int o = r * cols;
      for (int c = 0; c < cols; c++) {
        s += w[o + c] * x[c];
      }
      out[r] = s;
    }
  }
}
