package dev.sparkprop.config;

import dev.sparkprop.config.ConfigKeys.Key;
import dev.sparkprop.nn.Activation;
import dev.sparkprop.nn.Initializer;
import dev.sparkprop.nn.Kernel;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.optim.Adam;
import dev.sparkprop.optim.LearningRate;
import dev.sparkprop.optim.Momentum;
import dev.sparkprop.optim.Optimizer;
import dev.sparkprop.optim.RmsProp;
import dev.sparkprop.optim.Sgd;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * A training job's configuration: immutable, parsed and checked once (on the driver, before
 * Spark starts) from the keys of {@link ConfigKeys}, and shipped to the executors as it is.
 * Unknown keys, wrong types and impossible values are refused with the key's name.
 */
public final class TrainConfig implements Serializable {
  private static final long serialVersionUID = 1L;

  /** {@code sync.mode}. */
  public enum SyncMode { BARRIER, JOB }

  /** {@code sync.socket}. */
  public enum SyncSocket { AUTO, TCP }

  /** {@code sync.topology}. */
  public enum SyncTopology { AUTO, STAR, TREE }

  /** {@code sync.wire}: how vectors cross the exchange's links. */
  public enum SyncWire { FP32, BF16 }

  /** {@code features.scale}. */
  public enum FeaturesScale { AUTO, STANDARD, MINMAX, NONE }

  /** {@code features.missing}. */
  public enum FeaturesMissing { ERROR, MEAN }

  /** {@code features.missing=mean}: a missing feature value is replaced by its column's training mean. */
  public boolean fillsMissing() {
    return fillMissing;
  }

  /** {@code loss}. */
  public enum Loss { CROSS_ENTROPY, MSE }

  /** {@code label.scale}. */
  public enum LabelScale { AUTO, STANDARD, NONE }

  /** {@code checkpoint.unit}. */
  public enum CheckpointUnit { EPOCH, STEP }

  /** {@code resume}. */
  public enum Resume { AUTO, TRUE, FALSE }

  /** {@code keep}. */
  public enum Keep { LAST, BEST }

  /** {@code progress}. */
  public enum ProgressMode { AUTO, BAR, PLAIN }

  /** {@code optimizer}. */
  public enum OptimizerKind { SGD, MOMENTUM, NESTEROV, RMSPROP, ADAM }

  private final LinkedHashMap<String, String> values; // every key's text, in ConfigKeys order
  private final NetworkSpec spec; // null while a layer list waits for its input shape
  private final Initializer initializer;
  private final LearningRate learningRate;
  private final Kernel kernel;
  private final OptimizerKind optimizerKind;
  private final SyncMode syncMode;
  private final SyncSocket syncSocket;
  private final SyncTopology syncTopology;
  private final SyncWire syncWire;
  private final FeaturesScale featuresScale;
  private final boolean fillMissing;
  private final Loss loss;
  private final LabelScale labelScale;
  private final int syncFanIn;
  private final int syncChunk;
  private final CheckpointUnit checkpointUnit;
  private final Resume resume;
  private final Keep keep;
  private final ProgressMode progress;
  private final long seed;
  private final int epochs;
  private final int batchSize;
  private final boolean shuffle;
  private final boolean overwrite;
  private final int syncPort;
  private final int syncTimeout;
  private final int syncEvery;
  private final int syncRetries;
  private final int partitions;
  private final int trainLimit;
  private final int testLimit;
  private final int classes;
  private final int evalEvery;
  private final int logEvery;
  private final int checkpointEvery;
  private final int checkpointKeep;
  private final int earlyStopPatience;
  private final double validationFraction;

  private TrainConfig(LinkedHashMap<String, String> v) {
    this.values = v;
    if (get("sync.mode").equals("allreduce")) {
      throw new ConfigException("sync.mode: allreduce was replaced by barrier (one barrier stage per epoch whose tasks "
          + "exchange with the driver, which adds the sums and updates every step); use sync.mode=barrier");
    }
    for (Key k : ConfigKeys.ALL) k.check(get(k.name()));
    loss = choice("loss", Loss.class);
    if (loss == Loss.MSE) { // a regression's "classes" are its targets: the output layer's units
      int units = NetworkKeys.outputUnits(get("layers"), outputActivation());
      if (!get("classes").isEmpty() && !get("classes").equals(String.valueOf(units))) {
        throw new ConfigException("classes: loss=mse predicts the output layer's " + units + " targets; leave classes unset");
      }
      v.put("classes", String.valueOf(units));
    }
    if (get("classes").isEmpty()) { // unset: the output layer's units
      int units = NetworkKeys.outputUnits(get("layers"), outputActivation());
      if (units < 2) {
        throw new ConfigException("layers: the output layer has " + units + " unit" + (units == 1 ? "" : "s")
            + "; a classifier needs at least 2 (one per class)");
      }
      v.put("classes", String.valueOf(units));
    }
    classes = count("classes");
    if (classes < 2 && loss != Loss.MSE) throw new ConfigException("classes: need at least 2, got " + get("classes"));
    labelScale = choice("label.scale", LabelScale.class);
    spec = NetworkKeys.network(get("layers"), get("input.shape"), choice("activation", Activation.class), outputActivation(),
        regression(), classes);
    initializer = initializerOf();
    seed = Long.parseLong(get("seed"));
    epochs = count("epochs");
    batchSize = count("batch.size");
    shuffle = Boolean.parseBoolean(get("shuffle"));
    overwrite = Boolean.parseBoolean(get("overwrite"));
    kernel = choice("kernel", Kernel.class);
    progress = choice("progress", ProgressMode.class);
    syncMode = choice("sync.mode", SyncMode.class);
    syncPort = count("sync.port");
    if (syncPort > 65535) throw new ConfigException("sync.port: must be at most 65535, got " + get("sync.port"));
    syncTimeout = count("sync.timeout");
    syncSocket = choice("sync.socket", SyncSocket.class);
    syncTopology = choice("sync.topology", SyncTopology.class);
    syncFanIn = count("sync.fanin");
    if (syncFanIn < 2) throw new ConfigException("sync.fanin: at least 2 (a node with one child is a chain), got " + syncFanIn);
    syncChunk = count("sync.chunk");
    if (syncChunk < 1024 || syncChunk > (64 << 20)) {
      throw new ConfigException("sync.chunk: bytes from 1024 to 67108864 (64 MB), got " + get("sync.chunk"));
    }
    syncRetries = count("sync.retries");
    syncEvery = count("sync.every");
    syncWire = choice("sync.wire", SyncWire.class);
    featuresScale = choice("features.scale", FeaturesScale.class);
    fillMissing = choice("features.missing", FeaturesMissing.class) == FeaturesMissing.MEAN;
    if (syncWire == SyncWire.BF16 && syncEvery > 1) {
      throw new ConfigException("sync.wire=bf16: exact SGD only (sync.every=1), got sync.every=" + syncEvery
          + " (local SGD averages parameters and optimizer state, which bfloat16 would round)");
    }
    checkpointUnit = choice("checkpoint.unit", CheckpointUnit.class);
    checkpointEvery = count("checkpoint.every");
    checkpointKeep = count("checkpoint.keep");
    if (syncEvery > 1 && checkpointUnit == CheckpointUnit.STEP && checkpointEvery > 0) {
      throw new ConfigException("checkpoint.unit=step needs sync.every=1: with local SGD the partitions' replicas differ "
          + "between averagings; use checkpoint.unit=epoch");
    }
    optimizerKind = choice("optimizer", OptimizerKind.class);
    optimizer(); // its hyper-parameters' ranges
    learningRate = learningRateOf();
    partitions = count("partitions");
    trainLimit = count("train.limit");
    testLimit = count("test.limit");
    evalEvery = count("eval.every");
    keep = choice("keep", Keep.class);
    earlyStopPatience = count("early.stop.patience");
    double f = Double.parseDouble(get("validation.fraction"));
    if (!(f >= 0 && f < 1)) {
      throw new ConfigException("validation.fraction: expected a number in [0, 1), got '" + get("validation.fraction") + "'");
    }
    validationFraction = f;
    ValidationSet.checkAtMostOne(this, !get("validation.path").isEmpty(), "validation.path");
    logEvery = count("log.every");
    resume = choice("resume", Resume.class);
  }

  /** Defaults, then {@code props} on top; refuses unknown keys and checks every value. */
  public static TrainConfig of(Properties props) {
    LinkedHashMap<String, String> v = new LinkedHashMap<>();
    for (Key k : ConfigKeys.ALL) v.put(k.name(), k.defaultValue());
    for (String name : props.stringPropertyNames()) {
      if (name.isEmpty()) {
        throw new ConfigException("a setting has no key before its '=' (value '" + props.getProperty(name)
            + "'); write key=value");
      }
      if (ConfigKeys.REMOVED.containsKey(name)) throw new ConfigException(name + ": " + ConfigKeys.REMOVED.get(name));
      if (ConfigKeys.find(name) == null) {
        throw new ConfigException("unknown config key '" + name + "'" + ConfigKeys.suggestion(name)
            + "; the keys are listed in README.md (Configuration)");
      }
      v.put(name, props.getProperty(name).trim());
    }
    return new TrainConfig(v);
  }

  /** As {@link #of(Properties)}, from a map of keys to values. */
  public static TrainConfig of(Map<String, String> values) {
    Properties p = new Properties();
    p.putAll(values);
    return of(p);
  }

  /** Returns a copy with some keys replaced (checked like any other value). */
  public TrainConfig with(String... keyValues) {
    Properties p = new Properties();
    p.putAll(values);
    for (int i = 0; i < keyValues.length; i += 2) p.setProperty(keyValues[i], keyValues[i + 1]);
    return of(p);
  }

  // ---- parsing, once ----

  /** An INTEGER key's value (its type is checked already). */
  private long integer(String key) {
    return Long.parseLong(get(key));
  }

  /** A COUNT or POSITIVE key's value (its type is checked already). */
  private int count(String key) {
    return Integer.parseInt(get(key));
  }

  private double number(String key) {
    return Double.parseDouble(get(key));
  }

  /** A CHOICE key's constant of {@code type} (its word was checked against the key's declaration already). */
  private <E extends Enum<E>> E choice(String key, Class<E> type) {
    String word = ConfigKeys.of(key).word(get(key));
    for (E e : type.getEnumConstants()) if (e.name().toLowerCase(Locale.ROOT).equals(word)) return e;
    throw new IllegalStateException(key + ": '" + word + "' is declared in ConfigKeys but not a constant of " + type.getName());
  }



  /** The output layer's activation: softmax for classes, identity for {@code loss=mse}. */
  private Activation outputActivation() {
    return loss == Loss.MSE ? Activation.IDENTITY : Activation.SOFTMAX;
  }

  /** {@code loss=mse}: a regression network (identity output, squared error, real-valued targets). */
  public boolean regression() {
    return loss == Loss.MSE;
  }

  /** Whether the regression targets are standardized for training ({@code label.scale}: auto and standard do). */
  public boolean scalesTargets() {
    return regression() && labelScale != LabelScale.NONE;
  }

  /** {@code label.columns}: the regression targets' columns, or empty ({@code label}). */
  public java.util.List<String> labelColumns() {
    java.util.List<String> out = columnNames("label.columns");
    if (out.isEmpty()) return out;
    if (!regression()) throw new ConfigException("label.columns: names regression targets; set loss=mse");
    if (out.size() != classes) {
      throw new ConfigException("label.columns: " + out.size() + " targets but the output layer has " + classes + " units");
    }
    return out;
  }

  private Initializer initializerOf() {
    Initializer.Kind kind = choice("init", Initializer.Kind.class);
    return ConfigException.naming("init.low", () -> new Initializer(kind, number("init.low"), number("init.high")));
  }

  private LearningRate learningRateOf() {
    double lr = number("lr");
    if (!(lr > 0)) throw new ConfigException("lr: the learning rate must be positive, got " + get("lr"));
    LearningRate.Kind kind = choice("lr.schedule", LearningRate.Kind.class);
    int reference = count("lr.scale.batch");
    double scale = reference == 0 ? 1 : batchSize / (double) reference;
    return ConfigException.naming("lr.schedule", () -> new LearningRate(kind, lr * scale, number("lr.gamma"), count("lr.step.epochs"),
        number("lr.min") * scale, integer("lr.warmup.steps"), number("lr.warmup.epochs")));
  }

  // ---- the data's part ----

  /** Whether {@code layers} is a layer list whose input shape is still to come from the data. */
  public boolean needsInputShape() {
    return spec == null;
  }

  // ---- the values ----

  /** A key's default value ("" = unset). */
  public static String defaultValue(String key) {
    return ConfigKeys.of(key).defaultValue();
  }

  /** A key's value as written (text keys: paths, URIs, formats). */
  public String get(String key) {
    ConfigKeys.of(key);
    return values.get(key);
  }

  /** The resolved configuration, every key, in {@link ConfigKeys#ALL} order. */
  public Map<String, String> resolved() {
    return new LinkedHashMap<>(values);
  }

  /** Human-readable resolved configuration, one {@code key=value} per line. */
  public List<String> lines() {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, String> e : values.entrySet()) out.add(e.getKey() + "=" + e.getValue());
    return out;
  }

  /**
   * The network. A layer list needs {@code input.shape}: set, or taken from the data by
   * {@code DataFit.withInputFrom} before Spark starts.
   */
  public NetworkSpec spec() {
    if (spec == null) {
      throw new ConfigException("input.shape: the layer list needs the input images' shape and none is known yet; "
          + "set input.shape=C,H,W (MNIST: 1,28,28)");
    }
    return spec;
  }

  /** A new optimizer with fresh state. */
  public Optimizer optimizer() {
    return switch (optimizerKind) {
      case SGD -> new Sgd();
      case MOMENTUM -> ConfigException.naming("momentum", () -> new Momentum(number("momentum"), false));
      case NESTEROV -> ConfigException.naming("momentum", () -> new Momentum(number("momentum"), true));
      case RMSPROP -> ConfigException.naming("rmsprop.rho", () -> new RmsProp(number("rmsprop.rho"), number("eps")));
      case ADAM -> ConfigException.naming("adam.beta1", () -> new Adam(number("adam.beta1"), number("adam.beta2"), number("eps")));
    };
  }

  public LearningRate learningRate() {
    return learningRate;
  }

  public Initializer initializer() {
    return initializer;
  }

  public Kernel kernel() {
    return kernel;
  }

  public long seed() {
    return seed;
  }

  public int epochs() {
    return epochs;
  }

  public int batchSize() {
    return batchSize;
  }

  public boolean shuffle() {
    return shuffle;
  }

  public SyncMode syncMode() {
    return syncMode;
  }

  public SyncSocket syncSocket() {
    return syncSocket;
  }

  public SyncTopology syncTopology() {
    return syncTopology;
  }

  /**
   * The feature scaling {@code features.scale} asks for on data of this kind: {@code auto} is none
   * for byte images (which the network reads as b / 255) and standard for every other input.
   */
  public dev.sparkprop.data.FeatureScaling.Kind featuresScale(boolean byteImages) {
    return switch (featuresScale) {
      case AUTO -> byteImages ? dev.sparkprop.data.FeatureScaling.Kind.NONE : dev.sparkprop.data.FeatureScaling.Kind.STANDARD;
      case STANDARD -> dev.sparkprop.data.FeatureScaling.Kind.STANDARD;
      case MINMAX -> dev.sparkprop.data.FeatureScaling.Kind.MINMAX;
      case NONE -> dev.sparkprop.data.FeatureScaling.Kind.NONE;
    };
  }

  /** {@code features.columns}: the names listed, or an empty list. */
  public java.util.List<String> featureColumns() {
    return columnNames("features.columns");
  }

  /** A key's comma-separated column names (empty: unset), each once. */
  private java.util.List<String> columnNames(String key) {
    String v = get(key).trim();
    if (v.isEmpty()) return java.util.List.of();
    java.util.List<String> out = new java.util.ArrayList<>();
    for (String c : v.split(",")) {
      String t = c.trim();
      if (t.isEmpty()) throw new ConfigException(key + ": an empty name in '" + v + "'; list names such as a,b,c");
      if (out.contains(t)) throw new ConfigException(key + ": '" + t + "' is listed twice");
      out.add(t);
    }
    return out;
  }

  /** {@code sync.wire=bf16}: vectors rounded to bfloat16 where they are made, half the bytes on the links ({@code train.step.Bf16}). */
  public boolean bf16Wire() {
    return syncWire == SyncWire.BF16;
  }

  /** {@code sync.fanin}: at least 2. */
  public int syncFanIn() {
    return syncFanIn;
  }

  /** {@code sync.chunk}, bytes. */
  public int syncChunk() {
    return syncChunk;
  }

  /** {@code sync.port}: 0 for any free port. */
  public int syncPort() {
    return syncPort;
  }

  /** {@code sync.timeout} in seconds. */
  public int syncTimeout() {
    return syncTimeout;
  }

  public int syncRetries() {
    return syncRetries;
  }

  /** The averaging period K of {@code sync.every} (1 = exact synchronous SGD). */
  public int syncEvery() {
    return syncEvery;
  }

  public int partitions() {
    return partitions;
  }

  public int trainLimit() {
    return trainLimit;
  }

  public int testLimit() {
    return testLimit;
  }

  public int classes() {
    return classes;
  }

  public int evalEvery() {
    return evalEvery;
  }

  public int logEvery() {
    return logEvery;
  }

  public ProgressMode progress() {
    return progress;
  }

  public int checkpointEvery() {
    return checkpointEvery;
  }

  /** True if checkpoint.every counts steps, false for epochs. */
  public boolean checkpointPerStep() {
    return checkpointUnit == CheckpointUnit.STEP;
  }

  public int checkpointKeep() {
    return checkpointKeep;
  }

  public Resume resume() {
    return resume;
  }

  public boolean overwrite() {
    return overwrite;
  }

  public Keep keep() {
    return keep;
  }

  public int earlyStopPatience() {
    return earlyStopPatience;
  }

  /** {@code validation.fraction}: 0 (none) or a number in (0, 1). */
  public double validationFraction() {
    return validationFraction;
  }

  /** Whether the validation set chooses the model or stops the run ({@code keep=best}, {@code early.stop.patience}). */
  public boolean selectsModel() {
    return keep == Keep.BEST || earlyStopPatience > 0;
  }

  /**
   * This configuration with {@code out} resolved: as given, or {@code runs/<timestamp>} of now when
   * unset. The command that makes the run directory calls it once; everything after reads
   * {@link #outDir()}.
   */
  public TrainConfig withDefaultOut() {
    if (!get("out").isEmpty()) return this;
    return with("out", "runs/" + java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
  }

  /** The run directory, {@code out}; fails when it is unset ({@link #withDefaultOut()} resolves it first). */
  public String outDir() {
    String out = get("out");
    if (out.isEmpty()) throw new IllegalStateException("out is unset: resolve it once with withDefaultOut()");
    return out;
  }
}
