package io.toedit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.toedit.local.SyntheticCheckpoint;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Writes a checkpoint with synthetic weights (spec v1) for tests and benchmarks. */
@Command(name = "synth-model", mixinStandardHelpOptions = true,
    description = "Write a Hugging Face checkpoint whose weights follow the synthetic weight spec v1 "
        + "(SplitMix64, BF16): from a config.json with synthetic_weights.seed, or the llama-1b preset "
        + "(Llama-3.2-1B shape, 2.47 GB BF16; for benchmarks, never commit it).")
public final class SynthModelCommand implements Callable<Integer> {

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--config", paramLabel = "FILE", description = "config.json with synthetic_weights.seed.")
  Path config;

  @Option(names = "--preset", paramLabel = "llama-1b", description = "A built-in shape instead of --config.")
  String preset;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "5", description = "Seed of a preset. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--vocab", paramLabel = "N", defaultValue = "128256",
      description = "Vocabulary rows of a preset. Default: ${DEFAULT-VALUE}.")
  int vocab;

  @Option(names = "--out", paramLabel = "DIR", required = true, description = "Output folder.")
  Path out;

  @Option(names = "--dtype", paramLabel = "BF16|F32", defaultValue = "BF16", description = "Default: ${DEFAULT-VALUE}.")
  String dtype;

  @Option(names = "--shards", paramLabel = "N", defaultValue = "1",
      description = "Safetensors files (more than 1 writes model.safetensors.index.json). Default: ${DEFAULT-VALUE}.")
  int shards;

  @Option(names = "--tokenizer", paramLabel = "DIR",
      description = "Folder with tokenizer.json or tokenizer.json.gz (and tokenizer_config.json) to copy.")
  Path tokenizer;

  @Override
  public Integer call() throws Exception {
    if ((config == null) == (preset == null)) {
      throw new IllegalArgumentException("give exactly one of --config and --preset");
    }
    JsonNode c;
    if (config != null) {
      c = SyntheticCheckpoint.readConfig(config);
    } else if (preset.equals("llama-1b")) {
      ObjectNode p = SyntheticCheckpoint.llama1bConfig(seed, vocab);
      c = p;
    } else {
      throw new IllegalArgumentException("unknown --preset '" + preset + "' (supported: llama-1b)");
    }
    long t0 = System.nanoTime();
    SyntheticCheckpoint.write(c, out, dtype, shards, tokenizer);
    spec.commandLine().getOut().printf("wrote %s (%s, %d shard(s)) in %.1f s%n", out, dtype, shards,
        (System.nanoTime() - t0) / 1e9);
    return 0;
  }
}
