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
 * A parameterless TorchScript module written from Java: a way to reach PyTorch operations that DJL's
 * NDArray API does not expose (fused SDPA, {@code silu}, {@code addmm}) without a {@code .pt} file or Python.
 *
 * <p>A TorchScript archive is a zip holding the module's source ({@code code/__torch__.py}), a pickled
 * instance ({@code data.pkl}), an empty constants table and a format version, which is what
 * {@code torch.jit.save} writes for a parameterless scripted module. libtorch compiles the source when
 * DJL loads it. Weights are passed to {@link #call} as arguments. Thread-safe for concurrent calls.
 */
final class TorchScriptModule implements AutoCloseable {

  private final String name;
  private final PtSymbolBlock block;

  /**
   * @param cls the module's class name
   * @param parameters the forward's parameters after {@code self}, TorchScript-typed
   *     ({@code "x: Tensor, eps: float"}); it returns one Tensor
   * @param body the forward's statements, one per line, without indentation
   */
  TorchScriptModule(NDManager manager, String cls, String parameters, String... body) {
    StringBuilder source = new StringBuilder()
        .append("class ").append(cls).append("(Module):\n")
        .append("  __parameters__ = []\n  __buffers__ = []\n  training : bool\n")
        .append("  def forward(self: __torch__.").append(cls).append(", ").append(parameters).append(") -> Tensor:\n");
    for (String line : body) {
      source.append("    ").append(line).append('\n');
    }
    this.name = cls;
    try {
      block = JniUtils.loadModule((PtNDManager) manager,
          new ByteArrayInputStream(archive(cls, source.toString())), false, false);
    } catch (IOException e) {
      throw new UncheckedIOException("could not load the TorchScript module " + cls, e);
    }
  }

  /**
   * Runs forward on {@code args} (NDArrays, {@code Long}s for {@code int}, {@code Double}s for {@code float},
   * {@code Boolean}s for {@code bool}, or {@link IValue}s passed as they are) and returns its Tensor attached to
   * {@code out}.
   */
  NDArray call(NDManager out, Object... args) {
    try (IValue result = forward(args)) {
      return result.toTensor((PtNDManager) out);
    }
  }

  /**
   * Runs forward and returns the raw result, which the caller closes: a tensor of a dtype DJL's NDArrays cannot
   * hold (bfloat16) stays an opaque IValue that later calls take as an argument. {@link IValue} arguments are
   * neither copied nor closed; the others are wrapped for this call only.
   */
  IValue forward(Object... args) {
    IValue[] in = new IValue[args.length];
    boolean[] mine = new boolean[args.length];
    try {
      for (int i = 0; i < args.length; i++) {
        Object a = args[i];
        mine[i] = !(a instanceof IValue);
        if (a instanceof IValue v) {
          in[i] = v;
        } else if (a instanceof NDArray) {
          in[i] = IValue.from((PtNDArray) a);
        } else if (a instanceof Long) {
          in[i] = IValue.from((long) (Long) a);
        } else if (a instanceof Double) {
          in[i] = IValue.from((double) (Double) a);
        } else if (a instanceof Boolean) {
          in[i] = IValue.from((boolean) (Boolean) a);
        } else {
          throw new IllegalArgumentException(name + ": unsupported argument type " + a);
        }
      }
      return block.forward(in);
    } finally {
      for (int i = 0; i < in.length; i++) {
        if (in[i] != null && mine[i]) {
          in[i].close();
        }
      }
    }
  }

  @Override
  public void close() {
    block.close();
  }

  /** The TorchScript archive (zip, entries stored) of a parameterless module. */
  private static byte[] archive(String cls, String source) {
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
