package dev.sparkprop.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkprop.command.CommandArgs;
import dev.sparkprop.config.ConfigException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The table of {@code submit/local-sgd-table}: from the run directories of a grid of trainings
 * (sync.every x batch.size x sync.mode) it writes {@code local_sgd.csv} and prints a Markdown
 * table: the final test accuracy, the training seconds (the epochs, without evaluation), the
 * averagings an epoch and the rates used. Every figure is read from the runs' {@code summary.json}.
 *
 * <p>Usage: {@code SyncTable out=DIR runs=RUN_DIR,...}. No Spark needed.
 */
public final class SyncTable {
  private SyncTable() {}

  /** One run's figures. */
  record Row(String mode, int every, int batch, double lr, String warmup, int epochs, double accuracy, double seconds,
      int exchangesPerEpoch, double samplesPerSecond) {}

  static Row read(Path run) throws java.io.IOException {
    JsonNode s = new ObjectMapper().readTree(Files.readString(run.resolve("summary.json")));
    JsonNode c = s.path("config");
    int batch = Integer.parseInt(c.path("batch.size").asText());
    int every = Integer.parseInt(c.path("sync.every").asText());
    int reference = Integer.parseInt(c.path("lr.scale.batch").asText());
    double lr = Double.parseDouble(c.path("lr").asText()) * (reference == 0 ? 1 : batch / (double) reference);
    double seconds = 0;
    for (JsonNode e : s.path("epoch_seconds")) seconds += e.asDouble();
    int rows = 60000;
    String limit = c.path("train.limit").asText();
    if (!limit.equals("0")) rows = Math.min(rows, Integer.parseInt(limit));
    int steps = (rows + batch - 1) / batch;
    return new Row(c.path("sync.mode").asText(), every, batch, lr, c.path("lr.warmup.epochs").asText(),
        s.path("epochs").asInt(), s.path("final_test_accuracy").asDouble(), seconds, (steps + every - 1) / every,
        s.path("samples_per_second").asDouble());
  }

  public static void main(String[] args) throws Exception {
    CommandArgs a;
    try {
      a = CommandArgs.parse("SyncTable", args, CommandArgs.keys("out", null, "runs", null));
    } catch (dev.sparkprop.config.ConfigException e) {
      System.err.println("error: " + e.getMessage() + "; usage: SyncTable out=DIR runs=RUN_DIR,...");
      System.exit(dev.sparkprop.command.ExitCodes.USAGE);
      return;
    }
    List<Row> rows = new ArrayList<>();
    for (String run : a.get("runs").split(",")) rows.add(read(Path.of(run)));
    StringBuilder csv = new StringBuilder("sync_mode,sync_every,batch_size,lr,warmup_epochs,epochs,test_accuracy,"
        + "training_seconds,averagings_per_epoch,samples_per_second\n");
    StringBuilder md = new StringBuilder("| sync.mode | sync.every K | global batch | lr used | averagings / epoch | "
        + "test accuracy | training s | samples/s |\n|---|---|---|---|---|---|---|---|\n");
    for (Row r : rows) {
      csv.append(String.format(Locale.ROOT, "%s,%d,%d,%.4g,%s,%d,%.4f,%.2f,%d,%.0f%n", r.mode(), r.every(), r.batch(),
          r.lr(), r.warmup(), r.epochs(), r.accuracy(), r.seconds(), r.exchangesPerEpoch(), r.samplesPerSecond()));
      md.append(String.format(Locale.ROOT, "| %s | %d | %d | %.3g | %d | %.4f | %.1f | %.0f |%n", r.mode(), r.every(),
          r.batch(), r.lr(), r.exchangesPerEpoch(), r.accuracy(), r.seconds(), r.samplesPerSecond()));
    }
    Path out = Path.of(a.get("out"));
    Files.createDirectories(out);
    Files.writeString(out.resolve("local_sgd.csv"), csv.toString(), StandardCharsets.UTF_8);
    System.out.print(md);
    System.out.println("wrote " + out.resolve("local_sgd.csv"));
  }
}
