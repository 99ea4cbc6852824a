package io.toedit.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * PyTorch's fused {@code torch.scaled_dot_product_attention} (causal), which DJL's NDArray API does not
 * expose, reached through a TorchScript module.
 *
 * <p>The module has no weights, so instead of shipping a {@code .pt} file the archive is written here:
 * a TorchScript archive is a zip holding the module's source ({@code code/__torch__.py}), a pickled
 * instance ({@code data.pkl}), an empty constants table and a format version, which is what
 * {@code torch.jit.save} writes for a parameterless scripted module. libtorch compiles the source when
 * DJL loads it. GQA key/value heads are repeated inside the module (HF {@code repeat_kv} order).
 */
final class SdpaAttention implements AutoCloseable {

  static final String SOURCE = String.join("\n",
      "class ToEditAttention(Module):",
      "  __parameters__ = []",
      "  __buffers__ = []",
      "  training : bool",
      "  def forward(self: __torch__.ToEditAttention, q: Tensor, k: Tensor, v: Tensor, group: int) -> Tensor:",
      "    if group > 1:",
      "      k = torch.repeat_interleave(k, group, 1)",
      "      v = torch.repeat_interleave(v, group, 1)",
      "    return torch.scaled_dot_product_attention(q, k, v, None, 0., True, scale=1.)",
      "");

  private final PtSymbolBlock block;

  SdpaAttention(NDManager manager) {
    block = load(manager, "ToEditAttention", SOURCE);
  }

  /** Loads a parameterless TorchScript module {@code __torch__.<cls>} whose source is {@code source}. */
  static PtSymbolBlock load(NDManager manager, String cls, String source) {
    try {
      return JniUtils.loadModule((PtNDManager) manager, new ByteArrayInputStream(archive(cls, source)), false, false);
    } catch (IOException e) {
      throw new UncheckedIOException("could not load the TorchScript module " + cls, e);
    }
  }

  /**
   * Causal attention: q {@code [B, heads, T, hd]} (already scaled), k and v {@code [B, kvHeads, T, hd]};
   * returns {@code [B, heads, T, hd]} attached to {@code m}.
   */
  NDArray attend(NDManager m, NDArray q, NDArray k, NDArray v, int group) {
    IValue[] in = {IValue.from((PtNDArray) q), IValue.from((PtNDArray) k), IValue.from((PtNDArray) v),
        IValue.from((long) group)};
    try (IValue out = block.forward(in)) {
      return out.toTensor((PtNDManager) m);
    } finally {
      for (IValue i : in) {
        i.close();
      }
    }
  }

  @Override
  public void close() {
    block.close();
  }

  /** The TorchScript archive (zip, entries stored) of a parameterless module. */
  static byte[] archive(String cls, String source) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    String dir = cls.toLowerCase(java.util.Locale.ROOT) + "/";
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      put(zip, dir + "data.pkl", pickledInstance(cls));
      put(zip, dir + "code/__torch__.py", source.getBytes(StandardCharsets.UTF_8));
      put(zip, dir + "constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'}); // empty tuple
      put(zip, dir + "version", "3\n".getBytes(StandardCharsets.US_ASCII));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** Pickle protocol 2 of {@code __torch__.<cls>()} with state {@code {'training': False}}. */
  private static byte[] pickledInstance(String cls) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    o.write(0x80);                                                      // PROTO 2
    o.write(2);
    o.writeBytes(("c__torch__\n" + cls + "\n").getBytes(StandardCharsets.US_ASCII)); // GLOBAL
    o.write(')');                                                       // EMPTY_TUPLE
    o.write(0x81);                                                      // NEWOBJ
    o.write('}');                                                       // EMPTY_DICT
    o.write('(');                                                       // MARK
    byte[] key = "training".getBytes(StandardCharsets.US_ASCII);
    o.write('X');                                                       // BINUNICODE, 4-byte LE length
    o.write(key.length);
    o.write(0);
    o.write(0);
    o.write(0);
    o.writeBytes(key);
    o.write(0x89);                                                      // NEWFALSE
    o.write('u');                                                       // SETITEMS
    o.write('b');                                                       // BUILD
    o.write('.');                                                       // STOP
    return o.toByteArray();
  }

  private static void put(ZipOutputStream zip, String name, byte[] data) throws IOException {
    ZipEntry e = new ZipEntry(name);
    e.setMethod(ZipEntry.STORED);
    e.setSize(data.length);
    CRC32 crc = new CRC32();
    crc.update(data);
    e.setCrc(crc.getValue());
    zip.putNextEntry(e);
    zip.write(data);
    zip.closeEntry();
  }
}
