package dev.sparkprop.train;

import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.RowSubset;
import dev.sparkprop.nn.Activation;
import dev.sparkprop.nn.Initializer;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.optim.Adam;
import dev.sparkprop.optim.LearningRate;
import dev.sparkprop.optim.Momentum;
import dev.sparkprop.optim.Optimizer;
import dev.sparkprop.optim.RmsProp;
import dev.sparkprop.optim.Sgd;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The training job's configuration: every key, its default and its meaning in {@link #KEYS};
 * parsed and checked before Spark starts. Unknown keys, wrong types and impossible values are
 * refused with the key's name.
 */
public final class TrainConfig {
  /** A documented key with its default ("" means unset). */
  public record Key(String name, String defaultValue, String doc) {}

  public static final List<Key> KEYS = List.of(
      new Key("train.path", "data/mnist", "training data: a folder with the IDX pair train-images-idx3-ubyte, train-labels-idx1-ubyte (plain or .gz), a Parquet dataset or CSV files; any Hadoop FileSystem URI"),
      new Key("test.path", "data/mnist", "test data: a folder with the IDX pair t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, a Parquet dataset or CSV files"),
      new Key("train.format", "auto", "format of train.path: auto (from the files), idx, parquet or csv"),
      new Key("test.format", "auto", "format of test.path: auto, idx, parquet or csv"),
      new Key("train.limit", "0", "use only the first N training rows (0 = all)"),
      new Key("test.limit", "0", "use only the first N test rows (0 = all)"),
      new Key("classes", "10", "number of classes; labels must lie in [0, classes)"),
      new Key("layers", "784,512,10", "the network: layer sizes, input first (784,512,10: a dense network whose first size equals the pixels per image and last the class count), or a layer list such as conv(32,3) relu, pool(2), conv(64,3) relu, pool(2), dense(128) relu, dense(10) softmax (README.md, Layers)"),
      new Key("input.shape", "", "channels,height,width of an input image for a layer list, e.g. 1,28,28 (empty: from the IDX images' header, or a table's square width as 1,side,side)"),
      new Key("activation", "relu", "hidden-layer activation: relu, sigmoid, tanh, identity, softmax (the output layer is softmax)"),
      new Key("init", "he", "weight initialiser: he, he_uniform, glorot, glorot_normal, uniform (biases start at 0)"),
      new Key("init.low", "0", "lower bound of init=uniform"),
      new Key("init.high", "0.1", "upper bound of init=uniform"),
      new Key("seed", "42", "seed of the initialiser and of the shuffle"),
      new Key("epochs", "10", "passes over the training set"),
      new Key("batch.size", "256", "rows in one global mini-batch (split across the partitions)"),
      new Key("shuffle", "true", "draw a new permutation of the training rows every epoch from (seed, epoch); false = file order, like the notebook"),
      new Key("optimizer", "nesterov", "sgd, momentum, nesterov, rmsprop or adam"),
      new Key("lr", "0.2", "base learning rate"),
      new Key("momentum", "0.9", "momentum of optimizer=momentum and nesterov"),
      new Key("rmsprop.rho", "0.9", "decay of the squared-gradient average of rmsprop"),
      new Key("adam.beta1", "0.9", "Adam's first-moment decay"),
      new Key("adam.beta2", "0.999", "Adam's second-moment decay"),
      new Key("eps", "1e-8", "epsilon of rmsprop and adam"),
      new Key("lr.schedule", "cosine", "constant, step (lr * lr.gamma every lr.step.epochs) or cosine (down to lr.min over the run)"),
      new Key("lr.gamma", "0.1", "factor of the step schedule"),
      new Key("lr.step.epochs", "5", "epochs between decays of the step schedule"),
      new Key("lr.min", "0", "final rate of the cosine schedule"),
      new Key("lr.warmup.steps", "0", "steps of linear warm-up at the start"),
      new Key("lr.warmup.epochs", "0", "epochs of linear warm-up at the start (a number, e.g. 0.5; instead of lr.warmup.steps)"),
      new Key("lr.scale.batch", "0", "linear scaling rule for large batches: the batch size lr (and lr.min) were tuned for; the rate used is lr * batch.size / lr.scale.batch (0 = lr as given). Pair it with lr.warmup.epochs"),
      new Key("kernel", "auto", "matrix products: auto (the fastest kernel that loads, timed once per JVM on the network's first layer: normally the bundled OpenBLAS), openblas (the OpenBLAS that comes with the build), native (the system's libblas.so.3 through netlib: MKL, a vendor BLAS), java (netlib's JDK Vector API BLAS) or ejml (the reference)"),
      new Key("sync.mode", "barrier", "how the driver and the partitions exchange parameters and sums every step (the driver adds, divides and updates in both; same bits): barrier = one barrier stage per epoch whose tasks talk to the driver over direct connections (needs a free task slot per partition, no dynamic allocation); job = a Spark job per step (broadcast, tasks, collect; works everywhere, 15-35 ms a step)"),
      new Key("sync.port", "0", "sync.mode=barrier: port the driver listens on for its tasks, on spark.driver.bindAddress (0 = any free port)"),
      new Key("sync.socket", "auto", "sync.mode=barrier: auto = a task in the driver's JVM (local mode) exchanges in memory, tasks on the driver's machine through a Unix domain socket (about twice the throughput of TCP on loopback), others over TCP; tcp = every task over TCP"),
      new Key("sync.timeout", "300", "sync.mode=barrier: seconds the driver waits for the tasks to connect and for each step's sums before the stage counts as failed"),
      new Key("sync.every", "1", "averaging period K: 1 = exact synchronous SGD (gradients averaged every step); K > 1 = local SGD, each partition takes K steps on its own rows of the batches, then the driver averages parameters and optimizer state (K times fewer exchanges; not the same math)"),
      new Key("sync.retries", "3", "sync.mode=barrier: times in a row a failed barrier stage (e.g. a lost executor) is launched again from the step that failed (Spark does not retry those itself)"),
      new Key("partitions", "0", "partitions of the cached training set (0 = Spark's default parallelism)"),
      new Key("eval.every", "1", "evaluate on the test set every N epochs (the last epoch always)"),
      new Key("validation.path", "", "validation data for model selection, evaluated after every epoch: a folder with the IDX pair validation-images-idx3-ubyte, validation-labels-idx1-ubyte, a Parquet dataset or CSV files; any Hadoop URI (the API: fit(train, validation)); never the test set"),
      new Key("validation.format", "auto", "format of validation.path: auto, idx, parquet or csv"),
      new Key("validation.fraction", "0", "hold out this fraction of the training rows as the validation set, chosen from the seed (the same rows for the same seed, data and train.limit); instead of validation.path (0 = none)"),
      new Key("early.stop.patience", "0", "stop training after N epochs in a row without a lower validation loss (0 = never); needs a validation set"),
      new Key("keep", "last", "which parameters become the model: last (the last epoch's) or best (the epoch with the lowest validation loss; needs a validation set)"),
      new Key("log.every", "100", "print the loss every N batches (when the console is not a terminal, or progress=plain)"),
      new Key("progress", "auto", "auto: a progress bar on a terminal, plain loss lines otherwise; bar; plain"),
      new Key("out", "", "run directory for metrics.csv, config.properties, the reports, checkpoints/ and model/: a local path or any Hadoop FileSystem URI (default runs/<timestamp>)"),
      new Key("overwrite", "false", "replace a model already in out/model (otherwise the run is refused before it starts)"),
      new Key("init.from", "", "start from the weights of a saved model directory (its network must equal layers/activation)"),
      new Key("checkpoint.every", "0", "write a checkpoint every N units (0 = never)"),
      new Key("checkpoint.unit", "epoch", "unit of checkpoint.every: epoch or step"),
      new Key("checkpoint.keep", "3", "keep the newest K checkpoints"),
      new Key("resume", "auto", "auto: continue from the newest valid checkpoint in out/ if there is one; true: require one; false: refuse to start over a run that has checkpoints"));

  private static final Map<String, Key> BY_NAME = new LinkedHashMap<>();

  /** Keys of earlier versions, with what to do instead. */
  private static final Map<String, String> REMOVED = Map.of(
      "sync.rendezvous", "no longer exists: the barrier stage's tasks connect to the driver directly; remove the key",
      "sync.rendezvous.port", "was renamed sync.port (the port the driver listens on for its tasks)");

  static {
    for (Key k : KEYS) BY_NAME.put(k.name(), k);
  }

  private final Map<String, String> values;

  private TrainConfig(Map<String, String> values) {
    this.values = values;
  }

  /** Defaults, then {@code props} on top; refuses unknown keys and checks every value. */
  public static TrainConfig of(Properties props) {
    Map<String, String> v = new LinkedHashMap<>();
    for (Key k : KEYS) v.put(k.name(), k.defaultValue());
    for (String name : props.stringPropertyNames()) {
      if (name.isEmpty()) {
        throw new ConfigException("a setting has no key before its '=' (value '" + props.getProperty(name)
            + "'); write key=value");
      }
      if (REMOVED.containsKey(name)) throw new ConfigException(name + ": " + REMOVED.get(name));
      if (!BY_NAME.containsKey(name)) {
        throw new ConfigException("unknown config key '" + name + "'" + suggestion(name)
            + "; the keys are listed in README.md (Configuration)");
      }
      v.put(name, props.getProperty(name).trim());
    }
    TrainConfig c = new TrainConfig(v);
    c.validate();
    return c;
  }

  /** As {@link #of(Properties)}, from a resolved map (the form a Spark task receives). */
  public static TrainConfig of(Map<String, String> values) {
    Properties p = new Properties();
    p.putAll(values);
    return of(p);
  }

  private static String suggestion(String name) {
    String best = null;
    int bestD = 4;
    for (String k : BY_NAME.keySet()) {
      int d = editDistance(name, k);
      if (d < bestD) {
        bestD = d;
        best = k;
      }
    }
    return best == null ? "" : " (did you mean '" + best + "'?)";
  }

  private static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) prev[j] = j;
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  /** Parses every typed value once, so that a bad one fails now, before Spark starts. */
  private void validate() {
    if (needsInputShape()) {
      layerList(); // the syntax now; the fit to the images once the data's shape is known
      if (!get("input.shape").isEmpty()) spec();
    } else {
      spec();
    }
    initializer();
    seed();
    positive("epochs");
    positive("batch.size");
    bool("shuffle");
    kernel();
    if (!List.of("auto", "bar", "plain").contains(get("progress"))) {
      throw new ConfigException("progress: expected auto, bar or plain, got '" + get("progress") + "'");
    }
    if (get("sync.mode").equals("allreduce")) {
      throw new ConfigException("sync.mode: allreduce was replaced by barrier (one barrier stage per epoch whose tasks "
          + "exchange with the driver, which adds the sums and updates every step); use sync.mode=barrier");
    }
    if (!List.of("job", "barrier").contains(get("sync.mode"))) {
      throw new ConfigException("sync.mode: expected barrier or job, got '" + get("sync.mode") + "'");
    }
    if (nonNegative("sync.port") > 65535) throw new ConfigException("sync.port: must be at most 65535, got " + get("sync.port"));
    positive("sync.timeout");
    if (!List.of("auto", "tcp").contains(get("sync.socket"))) {
      throw new ConfigException("sync.socket: expected auto or tcp, got '" + get("sync.socket") + "'");
    }
    nonNegative("sync.retries");
    if (syncEvery() > 1 && checkpointPerStep() && nonNegative("checkpoint.every") > 0) {
      throw new ConfigException("checkpoint.unit=step needs sync.every=1: with local SGD the partitions' replicas differ "
          + "between averagings; use checkpoint.unit=epoch");
    }
    optimizer();
    learningRate();
    nonNegative("partitions");
    nonNegative("train.limit");
    nonNegative("test.limit");
    positive("eval.every");
    if (!List.of("last", "best").contains(get("keep"))) {
      throw new ConfigException("keep: expected last or best, got '" + get("keep") + "'");
    }
    nonNegative("early.stop.patience");
    double fraction = validationFraction();
    if (fraction > 0 && !get("validation.path").isEmpty()) {
      throw new ConfigException("validation.fraction and validation.path are both set; choose one validation set");
    }
    positive("log.every");
    nonNegative("checkpoint.every");
    positive("checkpoint.keep");
    resume();
    bool("overwrite");
    if (positive("classes") < 2) throw new ConfigException("classes: need at least 2, got " + get("classes"));
    if (NetworkSpec.isSizeList(get("layers"))) {
      int[] sizes = spec().sizes();
      if (sizes[sizes.length - 1] != classes()) {
        throw new ConfigException("layers: the last size is " + sizes[sizes.length - 1]
            + " but classes is " + classes() + "; the output layer needs one unit per class");
      }
    } else {
      List<NetworkSpec.Layer> layers = layerList();
      NetworkSpec.Layer last = layers.get(layers.size() - 1);
      if (!(last instanceof NetworkSpec.Dense d) || d.activation() != Activation.SOFTMAX) {
        throw new ConfigException("layers: the output layer must be dense with softmax (it is fused with the "
            + "cross-entropy loss), got " + last.describe());
      }
      if (d.out() != classes()) {
        throw new ConfigException("layers: the output layer " + last.describe() + " has " + d.out()
            + " units but classes is " + classes() + "; it needs one unit per class");
      }
    }
  }

  private List<NetworkSpec.Layer> layerList() {
    Activation hidden = wrap("activation", () -> Activation.parse(get("activation")));
    return wrap("layers", () -> NetworkSpec.parseLayers(get("layers"), hidden));
  }

  /** Whether {@code layers} is a layer list whose input shape is still to come from the data. */
  public boolean needsInputShape() {
    return !NetworkSpec.isSizeList(get("layers")) && get("input.shape").isEmpty();
  }

  /**
   * This configuration with {@code input.shape} taken from the data when a layer list needs it
   * (an IDX file's 1,rows,cols; a table's width as a square 1,side,side); otherwise itself.
   *
   * @param rows, cols the IDX images' rows and columns, or 0, 0 for a table
   * @param features values per row of the data
   */
  public TrainConfig withInputFrom(int rows, int cols, int features, String where) {
    if (!needsInputShape()) return this;
    String shape;
    if (rows > 0 && cols > 0) {
      shape = "1," + rows + "," + cols;
    } else {
      int side = (int) Math.round(Math.sqrt(features));
      if (side * side != features) {
        throw new ConfigException("input.shape: the layer list needs the images' shape, and " + where + " has "
            + features + " values per row, not a square; set input.shape=C,H,W");
      }
      shape = "1," + side + "," + side;
    }
    Map<String, String> v = new LinkedHashMap<>(values);
    v.put("input.shape", shape);
    TrainConfig c = new TrainConfig(v);
    c.validate();
    return c;
  }

  /**
   * Refuses data whose rows do not fit the network's input, naming the key to change.
   *
   * @param have the data's width as a phrase: "the data have 784 (training) and 784 (test)"
   * @param width the training data's width, suggested as the first size
   */
  public void checkInputWidth(boolean fits, String have, int width) {
    if (fits) return;
    NetworkSpec spec = spec();
    throw new ConfigException(NetworkSpec.isSizeList(get("layers"))
        ? "layers: the first size is " + spec.inputSize() + " but " + have + " features per row; set layers="
            + width + ",..."
        : "input.shape: " + spec.inputShape() + " is " + spec.inputSize() + " values but " + have + " values per row"
            + "; set input.shape to the images' C,H,W");
  }

  /**
   * The parameters of the model {@code init.from} names, refused unless its network is this
   * configuration's; null when the key is unset.
   */
  public float[] initFromModel() throws java.io.IOException {
    if (get("init.from").isEmpty()) return null;
    dev.sparkprop.io.SavedModel m = dev.sparkprop.io.ModelStore.load(get("init.from"));
    if (!m.spec().equals(spec())) {
      throw new ConfigException("init.from: the model in " + get("init.from") + " is " + m.spec()
          + ", the configured network is " + spec());
    }
    return m.params();
  }

  /** {@code validation.fraction}: 0 (none) or a number in (0, 1). */
  public double validationFraction() {
    double f;
    try {
      f = Double.parseDouble(get("validation.fraction"));
    } catch (NumberFormatException e) {
      throw new ConfigException("validation.fraction: expected a number in [0, 1), got '" + get("validation.fraction") + "'");
    }
    if (!(f >= 0 && f < 1)) {
      throw new ConfigException("validation.fraction: expected a number in [0, 1), got '" + get("validation.fraction") + "'");
    }
    return f;
  }

  /**
   * The training data and the validation data held out of it by {@code validation.fraction}
   * ({training, validation}), or {@code {train, null}} without one. The split covers the first
   * {@code train.limit} rows (all without a limit).
   */
  public DataSpec[] holdOut(DataSpec train) {
    double f = validationFraction();
    if (f == 0) return new DataSpec[] {train, null};
    int rows = trainLimit() > 0 ? Math.min(trainLimit(), train.count) : train.count;
    RowSubset[] sides;
    try {
      sides = RowSubset.split(rows, f, seed());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
    return new DataSpec[] {train.withSubset(sides[0]), train.withSubset(sides[1])};
  }

  /** Whether the validation set chooses the model or stops the run ({@code keep=best}, {@code early.stop.patience}). */
  public boolean selectsModel() {
    return get("keep").equals("best") || nonNegative("early.stop.patience") > 0;
  }

  /** A key's default value ("" = unset). */
  public static String defaultValue(String key) {
    Key k = BY_NAME.get(key);
    if (k == null) throw new IllegalArgumentException("no config key " + key);
    return k.defaultValue();
  }

  public String get(String key) {
    if (!BY_NAME.containsKey(key)) throw new IllegalArgumentException("no config key " + key);
    return values.get(key);
  }

  /** The resolved configuration, every key, in {@link #KEYS} order. */
  public Map<String, String> resolved() {
    return new LinkedHashMap<>(values);
  }

  private long integer(String key) {
    try {
      return Long.parseLong(get(key));
    } catch (NumberFormatException e) {
      throw new ConfigException(key + ": expected an integer, got '" + get(key) + "'");
    }
  }

  private int positive(String key) {
    long v = integer(key);
    if (v <= 0 || v > Integer.MAX_VALUE) throw new ConfigException(key + ": must be a positive integer, got " + get(key));
    return (int) v;
  }

  int nonNegative(String key) {
    long v = integer(key);
    if (v < 0 || v > Integer.MAX_VALUE) throw new ConfigException(key + ": must be 0 or a positive integer, got " + get(key));
    return (int) v;
  }

  private double number(String key) {
    double d;
    try {
      d = Double.parseDouble(get(key));
    } catch (NumberFormatException e) {
      throw new ConfigException(key + ": expected a number, got '" + get(key) + "'");
    }
    if (!Double.isFinite(d)) throw new ConfigException(key + ": must be finite, got " + get(key));
    return d;
  }

  private boolean bool(String key) {
    String s = get(key).toLowerCase(Locale.ROOT);
    if (s.equals("true")) return true;
    if (s.equals("false")) return false;
    throw new ConfigException(key + ": expected true or false, got '" + get(key) + "'");
  }

  private <T> T wrap(String key, java.util.function.Supplier<T> f) {
    try {
      return f.get();
    } catch (IllegalArgumentException e) {
      String m = String.valueOf(e.getMessage());
      throw new ConfigException(m.startsWith(key + ": ") ? m : key + ": " + m); // not "layers: layers: ..."
    }
  }

  /**
   * The network. A layer list needs {@code input.shape}: set, or taken from the data by
   * {@link #withInputFrom} before Spark starts.
   */
  public NetworkSpec spec() {
    String text = get("layers");
    Activation hidden = wrap("activation", () -> Activation.parse(get("activation")));
    if (!NetworkSpec.isSizeList(text)) {
      List<NetworkSpec.Layer> layers = layerList();
      if (get("input.shape").isEmpty()) {
        throw new ConfigException("input.shape: the layer list needs the input images' shape and none is known yet; "
            + "set input.shape=C,H,W (MNIST: 1,28,28)");
      }
      NetworkSpec.Shape shape = wrap("input.shape", () -> NetworkSpec.Shape.parse(get("input.shape")));
      return wrap("layers", () -> new NetworkSpec(shape, layers));
    }
    String[] parts = text.split(",");
    int[] sizes = new int[parts.length];
    for (int i = 0; i < parts.length; i++) sizes[i] = Integer.parseInt(parts[i].trim());
    NetworkSpec mlp = wrap("layers", () -> NetworkSpec.of(sizes, hidden));
    if (!get("input.shape").isEmpty()) {
      NetworkSpec.Shape shape = wrap("input.shape", () -> NetworkSpec.Shape.parse(get("input.shape")));
      if (shape.size() != sizes[0]) {
        throw new ConfigException("input.shape: " + shape + " is " + shape.size() + " values, but layers=" + text
            + " starts with " + sizes[0]);
      }
    }
    return mlp;
  }

  public Initializer initializer() {
    Initializer.Kind kind = wrap("init", () -> Initializer.parseKind(get("init")));
    double low = number("init.low");
    double high = number("init.high");
    return wrap("init.low", () -> new Initializer(kind, low, high));
  }

  public long seed() {
    return integer("seed");
  }

  public int epochs() {
    return positive("epochs");
  }

  public int batchSize() {
    return positive("batch.size");
  }

  public boolean shuffle() {
    return bool("shuffle");
  }

  public dev.sparkprop.nn.Kernel kernel() {
    try {
      return dev.sparkprop.nn.Kernel.parse(get("kernel"));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("kernel: " + e.getMessage());
    }
  }

  /** A key's value as an integer of at least 0 (refused with the key's name otherwise). */
  public int nonNegativeInt(String key) {
    return nonNegative(key);
  }

  /** The averaging period K of {@code sync.every} (1 = exact synchronous SGD). */
  public int syncEvery() {
    return positive("sync.every");
  }

  public int partitions() {
    return nonNegative("partitions");
  }

  public int trainLimit() {
    return nonNegative("train.limit");
  }

  public int testLimit() {
    return nonNegative("test.limit");
  }

  public int classes() {
    return positive("classes");
  }

  public int evalEvery() {
    return positive("eval.every");
  }

  public int logEvery() {
    return positive("log.every");
  }

  public int checkpointEvery() {
    return nonNegative("checkpoint.every");
  }

  /** True if checkpoint.every counts steps, false for epochs. */
  public boolean checkpointPerStep() {
    String u = get("checkpoint.unit").toLowerCase(Locale.ROOT);
    if (u.equals("step") || u.equals("steps")) return true;
    if (u.equals("epoch") || u.equals("epochs")) return false;
    throw new ConfigException("checkpoint.unit: expected epoch or step, got '" + get("checkpoint.unit") + "'");
  }

  public int checkpointKeep() {
    return positive("checkpoint.keep");
  }

  /** auto, true or false. */
  public String resume() {
    String r = get("resume").toLowerCase(Locale.ROOT);
    if (r.equals("auto") || r.equals("true") || r.equals("false")) return r;
    throw new ConfigException("resume: expected auto, true or false, got '" + get("resume") + "'");
  }

  public boolean overwrite() {
    return bool("overwrite");
  }

  /** A new optimizer with fresh state. */
  public Optimizer optimizer() {
    String name = get("optimizer").toLowerCase(Locale.ROOT);
    switch (name) {
      case "sgd":
        return new Sgd();
      case "momentum":
        return wrap("momentum", () -> new Momentum(number("momentum"), false));
      case "nesterov":
        return wrap("momentum", () -> new Momentum(number("momentum"), true));
      case "rmsprop":
        return wrap("rmsprop.rho", () -> new RmsProp(number("rmsprop.rho"), number("eps")));
      case "adam":
        return wrap("adam.beta1", () -> new Adam(number("adam.beta1"), number("adam.beta2"), number("eps")));
      default:
        throw new ConfigException("optimizer: unknown '" + get("optimizer")
            + "'; expected one of sgd, momentum, nesterov, rmsprop, adam");
    }
  }

  public LearningRate learningRate() {
    double lr = number("lr");
    if (!(lr > 0)) throw new ConfigException("lr: the learning rate must be positive, got " + get("lr"));
    LearningRate.Kind kind;
    try {
      kind = LearningRate.Kind.valueOf(get("lr.schedule").toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("lr.schedule: unknown '" + get("lr.schedule") + "'; expected constant, step or cosine");
    }
    long warmup = integer("lr.warmup.steps");
    double warmupEpochs = number("lr.warmup.epochs");
    int every = positive("lr.step.epochs");
    int reference = nonNegative("lr.scale.batch");
    double scale = reference == 0 ? 1 : batchSize() / (double) reference;
    return wrap("lr.schedule", () -> new LearningRate(kind, lr * scale, number("lr.gamma"), every, number("lr.min") * scale,
        warmup, warmupEpochs));
  }

  /** The run directory: {@code out}, or {@code runs/<timestamp>} when unset. */
  public String outDir() {
    String out = get("out");
    if (!out.isEmpty()) return out;
    return "runs/" + java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
  }

  /** Returns a copy with some keys replaced (checked like any other value). */
  public TrainConfig with(String... keyValues) {
    Properties p = new Properties();
    for (Map.Entry<String, String> e : values.entrySet()) p.setProperty(e.getKey(), e.getValue());
    for (int i = 0; i < keyValues.length; i += 2) p.setProperty(keyValues[i], keyValues[i + 1]);
    return of(p);
  }

  /** Human-readable resolved configuration, one {@code key=value} per line. */
  public List<String> lines() {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, String> e : values.entrySet()) out.add(e.getKey() + "=" + e.getValue());
    return out;
  }
}
