package dev.sparkprop.train;

import dev.sparkprop.config.ConfigException;
import dev.sparkprop.config.ConfigKeys;
import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.io.BadModelException;
import dev.sparkprop.io.ModelStore;
import dev.sparkprop.io.SavedModel;
import dev.sparkprop.run.StepLog;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The checkpoints of a run: {@code OUT/checkpoints/ckpt-<global step>}, each a model directory
 * (see {@link ModelStore}) with the optimizer's arrays as extra tensors and the cursor, running
 * loss, metrics history and configuration in its {@code info}. Written atomically; only the
 * newest {@code keep} are kept. Loading takes the newest one that passes every check and skips
 * a damaged one with a warning.
 */
public final class Checkpoints {
  static final String PREFIX = "ckpt-";
  private static final String OPT_PREFIX = "optimizer_";
  /** The step log (see {@link StepLog}) travels as extra tensors with this prefix. */
  private static final String STEPS_PREFIX = "steps_";
  private final Path dir;
  private final int keep;
  private final PrintStream log;

  /** The checkpoints of run directory {@code outDir}: {@code outDir/checkpoints}. */
  public Checkpoints(String outDir, int keep, PrintStream log) {
    this(new Path(outDir, "checkpoints"), keep, log);
  }

  private Checkpoints(Path dir, int keep, PrintStream log) {
    this.dir = dir;
    this.keep = keep;
    this.log = log;
  }

  /** Checkpoints directly in {@code folder} (any Hadoop URI): the Spark application API's checkpoint folder. */
  public static Checkpoints in(String folder, int keep, PrintStream log) {
    return new Checkpoints(new Path(folder), keep, log);
  }

  /**
   * The state a run starts from, as {@code resume} says: {@code auto} continues from the newest
   * checkpoint if there is one, {@code true} requires one, {@code false} refuses a folder that
   * holds any. Null: start afresh.
   *
   * @param elsewhere what else the user may choose, for the message ("another out=")
   */
  public TrainState startingState(TrainConfig cfg, String elsewhere) throws IOException {
    boolean has = any();
    if (cfg.resume() == TrainConfig.Resume.TRUE && !has) {
      throw new ConfigException("resume=true but " + dir + " holds no checkpoint");
    }
    if (cfg.resume() == TrainConfig.Resume.FALSE && has) {
      throw new ConfigException(dir + " holds checkpoints of an earlier run and resume=false; use resume=auto to "
          + "continue it, or " + elsewhere);
    }
    return has ? loadNewest(cfg) : null;
  }

  /** The extra tensor of the best validation epoch's parameters (keep=best). */
  private static final String BEST = "selection_best_params";

  void save(TrainState s, TrainConfig cfg, long globalStep) throws IOException {
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("checkpoint", s.toMap(globalStep));
    info.put("history", s.historyMaps());
    info.put("config", cfg.resolved());
    Map<String, float[]> extra = new LinkedHashMap<>();
    for (Map.Entry<String, float[]> e : s.optimizer().state().arrays().entrySet()) extra.put(OPT_PREFIX + e.getKey(), e.getValue());
    for (Map.Entry<String, float[]> e : StepLog.columns(s.steps()).entrySet()) extra.put(STEPS_PREFIX + e.getKey(), e.getValue());
    if (s.selection() != null) {
      info.put("selection", s.selection().toMap());
      if (s.selection().bestParams() != null) extra.put(BEST, s.selection().bestParams());
    }
    Path target = new Path(dir, String.format("%s%012d", PREFIX, globalStep));
    ModelStore.save(target.toString(), new SavedModel(cfg.spec(), s.params(), extra, info,
        s.scaling() != null ? s.scaling() : dev.sparkprop.data.FeatureScaling.NONE, java.util.List.of(), java.util.List.of(),
        s.targetScaling() != null ? s.targetScaling() : dev.sparkprop.data.FeatureScaling.NONE), true, false); // no model.onnx
    prune();
  }

  private List<Path> list() throws IOException {
    FileSystem fs = dir.getFileSystem(new Configuration());
    if (!fs.exists(dir)) return List.of();
    List<Path> out = new ArrayList<>();
    for (FileStatus st : fs.listStatus(dir)) {
      if (st.isDirectory() && st.getPath().getName().startsWith(PREFIX)) out.add(st.getPath());
    }
    out.sort((a, b) -> a.getName().compareTo(b.getName()));
    return out;
  }

  public boolean any() throws IOException {
    return !list().isEmpty();
  }

  private void prune() throws IOException {
    List<Path> all = list();
    FileSystem fs = dir.getFileSystem(new Configuration());
    for (int i = 0; i < all.size() - keep; i++) fs.delete(all.get(i), true);
  }

  /**
   * The newest checkpoint that loads and matches the configuration, as a state to continue from;
   * null if there is none. A damaged checkpoint is skipped with a warning; one written with
   * another configuration is refused.
   */
  @SuppressWarnings("unchecked")
  public TrainState loadNewest(TrainConfig cfg) throws IOException {
    List<Path> all = list();
    for (int i = all.size() - 1; i >= 0; i--) {
      SavedModel m;
      try {
        m = ModelStore.load(all.get(i).toString());
      } catch (BadModelException e) {
        log.println("WARNING: skipping damaged checkpoint " + all.get(i).getName() + ": " + e.getMessage());
        continue;
      }
      Map<String, Object> saved = (Map<String, Object>) m.info().get("config");
      List<String> differ = new ArrayList<>();
      List<String> keys = new ArrayList<>(ConfigKeys.math()); // must equal the checkpoint's
      if (cfg.syncEvery() > 1) keys.add("partitions"); // local SGD's result depends on the partition count
      for (String k : keys) {
        Object v = saved == null ? null : saved.get(k);
        // a key newer than the checkpoint had its default then
        String was = v == null ? TrainConfig.defaultValue(k) : v.toString();
        if (!cfg.get(k).equals(was)) differ.add(k + " (checkpoint: " + was + ", now: " + cfg.get(k) + ")");
      }
      if (!differ.isEmpty()) {
        throw new ConfigException("cannot resume from " + all.get(i) + ": it was written with another configuration: "
            + String.join(", ", differ) + "; use the same settings, or another out= to start afresh");
      }
      if (!m.spec().equals(cfg.spec())) throw new ConfigException("cannot resume: checkpoint network " + m.spec() + " differs from " + cfg.spec());
      Map<String, float[]> arrays = new LinkedHashMap<>();
      for (Map.Entry<String, float[]> e : m.extraTensors().entrySet()) {
        if (e.getKey().startsWith(OPT_PREFIX)) arrays.put(e.getKey().substring(OPT_PREFIX.length()), e.getValue());
      }
      TrainState s = TrainState.fromMap(cfg, m.params(), (Map<String, Object>) m.info().get("checkpoint"),
          (List<Map<String, Object>>) m.info().get("history"), arrays);
      s.scaledBy(m.scaling(), m.targetScaling()); // computed once, at the run's start: a resume reads it, not the rows again
      Map<String, float[]> steps = new LinkedHashMap<>();
      for (Map.Entry<String, float[]> e : m.extraTensors().entrySet()) {
        if (e.getKey().startsWith(STEPS_PREFIX)) steps.put(e.getKey().substring(STEPS_PREFIX.length()), e.getValue());
      }
      s.stepsBefore(StepLog.rows(steps)); // a checkpoint written before the log was kept has none
      if (m.info().get("selection") instanceof Map<?, ?> sel) {
        Selection selection = new Selection(cfg, m.params().length);
        selection.restore((Map<String, Object>) sel, m.extraTensors().get(BEST));
        s.selectWith(selection);
      }
      log.printf("resuming from checkpoint %s: epoch %d, step %d%n", all.get(i), s.epoch() + 1, s.step());
      return s;
    }
    if (!all.isEmpty()) log.println("WARNING: no valid checkpoint among " + Arrays.toString(all.toArray()) + "; starting afresh");
    return null;
  }
}
