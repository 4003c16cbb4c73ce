package dev.sparkprop.config;

import dev.sparkprop.data.DataFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.text.similarity.LevenshteinDistance;

/**
 * Every configuration key of a training job, declared once: its name, the type of its value,
 * its default, whether it changes the trained parameters' bits and its documentation (README.md's
 * configuration table is checked against these). {@link TrainConfig} parses the values.
 */
public final class ConfigKeys {
  /** What a value is; {@link Key#check} refuses a value not of its key's type, before anything else is read. */
  public enum Type {
    /** Free text (a path or URI; empty = unset). */
    TEXT,
    /** A whole number. */
    INTEGER,
    /** A whole number, 0 or more. */
    COUNT,
    /** A whole number, 1 or more. */
    POSITIVE,
    /** A finite decimal number. */
    NUMBER,
    /** true or false. */
    BOOLEAN,
    /** One of a fixed set of words, declared with the key ({@link Key#choices}; its documentation names them). */
    CHOICE,
    /** The network: {@code layers} and {@code input.shape}. */
    NETWORK
  }

  /** What a key does to the trained parameters, and so what a resume from a checkpoint allows. */
  public enum Bits {
    /** Nothing: a resume may change it. */
    NONE,
    /** The math: a resume with another value is refused. */
    MATH,
    /** The rounding only: a resume with another value is allowed with a warning (the checkpoint records it). */
    ROUNDING
  }

  /**
   * A documented key with its default ("" means unset); a CHOICE key's allowed words, lower case
   * (every other key's list is empty).
   */
  public record Key(String name, Type type, String defaultValue, Bits bits, String doc, List<String> choices) {
    /** The words as a message lists them: "a, b or c". */
    public String choiceText() {
      return choices.size() < 2 ? String.join("", choices)
          : String.join(", ", choices.subList(0, choices.size() - 1)) + " or " + choices.get(choices.size() - 1);
    }

    /** Refuses {@code s}, this key's value, when it is not of the key's type, with the key's name. */
    public void check(String s) {
      if (s.isEmpty() && defaultValue.isEmpty() && type != Type.NETWORK) return; // unset: derived (the key says from what)
      switch (type) {
        case INTEGER -> integer(s);
        case COUNT -> {
          long n = integer(s);
          if (n < 0 || n > Integer.MAX_VALUE) throw new ConfigException(name + ": must be 0 or a positive integer, got " + s);
        }
        case POSITIVE -> {
          long n = integer(s);
          if (n <= 0 || n > Integer.MAX_VALUE) throw new ConfigException(name + ": must be a positive integer, got " + s);
        }
        case NUMBER -> {
          double d;
          try {
            d = Double.parseDouble(s);
          } catch (NumberFormatException e) {
            throw new ConfigException(name + ": expected a number, got '" + s + "'");
          }
          if (!Double.isFinite(d)) throw new ConfigException(name + ": must be finite, got " + s);
        }
        case BOOLEAN -> {
          String b = s.toLowerCase(Locale.ROOT);
          if (!b.equals("true") && !b.equals("false")) throw new ConfigException(name + ": expected true or false, got '" + s + "'");
        }
        case CHOICE -> {
          if (!choices.contains(word(s))) throw new ConfigException(name + ": unknown '" + s + "'; expected " + choiceText());
        }
        default -> { } // TEXT and NETWORK: read by TrainConfig
      }
    }

    /** A CHOICE key's value as its word: lower case, trimmed; checkpoint.unit's "epochs" and "steps" are their singular. */
    public String word(String value) {
      String w = value.trim().toLowerCase(Locale.ROOT);
      return name.equals("checkpoint.unit") && w.endsWith("s") ? w.substring(0, w.length() - 1) : w;
    }

    private long integer(String s) {
      try {
        return Long.parseLong(s);
      } catch (NumberFormatException e) {
        throw new ConfigException(name + ": expected an integer, got '" + s + "'");
      }
    }
  }

  private static Key key(String name, Type type, String defaultValue, Bits bits, String doc) {
    if (type == Type.CHOICE) throw new IllegalStateException(name + ": a CHOICE key is declared with choice(...)");
    return new Key(name, type, defaultValue, bits, doc, List.of());
  }

  /** A CHOICE key whose words are the constants of {@code words}, lower case. */
  private static Key choice(String name, Class<? extends Enum<?>> words, String defaultValue, Bits bits, String doc) {
    return choice(name, java.util.Arrays.stream(words.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT)).toList(),
        defaultValue, bits, doc);
  }

  private static Key choice(String name, List<String> words, String defaultValue, Bits bits, String doc) {
    return new Key(name, Type.CHOICE, defaultValue, bits, doc, List.copyOf(words));
  }

  /** A data set's {@code *.format}: auto (from the files), or a format read from files. */
  private static final List<String> FORMATS = DataFormat.WORDS;

  private static final Type TEXT = Type.TEXT;
  private static final Type INTEGER = Type.INTEGER;
  private static final Type COUNT = Type.COUNT;
  private static final Type POSITIVE = Type.POSITIVE;
  private static final Type NUMBER = Type.NUMBER;
  private static final Type BOOLEAN = Type.BOOLEAN;
  private static final Type NETWORK = Type.NETWORK;
  private static final Bits NONE = Bits.NONE;
  private static final Bits MATH = Bits.MATH;
  private static final Bits ROUNDING = Bits.ROUNDING;

  /** Every key, in the order of README.md's table and of a run's config.properties. */
  public static final List<Key> ALL = List.of(
      key("train.path", TEXT, "data/mnist", MATH,
          "training data: a folder with the IDX pair train-images-idx3-ubyte, train-labels-idx1-ubyte (plain or .gz), a Parquet dataset or CSV files; any Hadoop FileSystem URI"),
      key("test.path", TEXT, "data/mnist", MATH,
          "test data: a folder with the IDX pair t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, a Parquet dataset or CSV files"),
      choice("train.format", FORMATS, "auto", NONE,
          "format of train.path: auto (from the files), idx, parquet or csv"),
      choice("test.format", FORMATS, "auto", NONE,
          "format of test.path: auto, idx, parquet or csv"),
      key("train.limit", COUNT, "0", MATH,
          "use only the first N training rows (0 = all)"),
      key("test.limit", COUNT, "0", MATH,
          "use only the first N test rows (0 = all)"),
      choice("loss", TrainConfig.Loss.class, "cross_entropy", MATH,
          "`cross_entropy` (classes; a softmax output layer) or `mse` (regression: mean squared error, an identity output layer with one unit per target)"),
      key("label.columns", TEXT, "", MATH,
          "`loss=mse`: the target columns by name, e.g. `y1,y2` (empty: the numeric `label` column)"),
      choice("label.scale", TrainConfig.LabelScale.class, "auto", MATH,
          "`loss=mse`: `auto` or `standard` (the targets standardized for training, predictions given back in their units; kept in the model) or `none`"),
      key("features.columns", TEXT, "", MATH,
          "a table's feature columns by name, e.g. `a,b,c` (any numeric types; empty: the `image`, `features` or `pixel0..N` columns, else every numeric column but `label` and `row`)"),
      choice("features.missing", TrainConfig.FeaturesMissing.class, "error", MATH,
          "a missing (null or empty) feature value: `error` (refused, naming its row and column) or `mean` (replaced by its column's training mean, kept in the model)"),
      choice("features.scale", TrainConfig.FeaturesScale.class, "auto", MATH,
          "feature scaling, computed on the training rows and kept in the model: `auto` (byte images as b/255, every other input `standard`), `standard` (mean 0, standard deviation 1), `minmax` (onto [0, 1]) or `none`"),
      key("classes", POSITIVE, "", MATH,
          "number of classes (unset: the output layer's units); integer labels must lie in [0, classes), string labels are mapped to 0..classes-1 in sorted order"),
      key("layers", NETWORK, "784,512,10", MATH,
          "the network: layer sizes, input first (`784,512,10`: a dense network whose first size equals the pixels per image and last the class count), or a layer list such as `conv(32,3) relu, pool(2), conv(64,3) relu, pool(2), dense(128) relu, dense(10) softmax` (see [Layers](#layers))"),
      key("input.shape", NETWORK, "", MATH,
          "channels,height,width of an input image for a layer list, e.g. `1,28,28` (unset: from the IDX images' header, or a table's square width as 1,side,side)"),
      choice("activation", dev.sparkprop.nn.Activation.class, "relu", MATH,
          "hidden-layer activation: relu, sigmoid, tanh, identity, softmax (the output layer is softmax)"),
      choice("init", dev.sparkprop.nn.Initializer.Kind.class, "he", MATH,
          "weight initialiser: he, he_uniform, glorot, glorot_normal, uniform (biases start at 0)"),
      key("init.low", NUMBER, "0", MATH,
          "lower bound of init=uniform"),
      key("init.high", NUMBER, "0.1", MATH,
          "upper bound of init=uniform"),
      key("seed", INTEGER, "42", MATH,
          "seed of the initialiser and of the shuffle"),
      key("epochs", POSITIVE, "10", MATH,
          "passes over the training set"),
      key("batch.size", POSITIVE, "256", MATH,
          "rows in one global mini-batch (split across the partitions)"),
      key("shuffle", BOOLEAN, "true", MATH,
          "draw a new permutation of the training rows every epoch from (seed, epoch); false = file order, like the notebook"),
      choice("optimizer", TrainConfig.OptimizerKind.class, "nesterov", MATH,
          "sgd, momentum, nesterov, rmsprop or adam"),
      key("lr", NUMBER, "0.2", MATH,
          "base learning rate"),
      key("momentum", NUMBER, "0.9", MATH,
          "momentum of optimizer=momentum and nesterov"),
      key("rmsprop.rho", NUMBER, "0.9", MATH,
          "decay of the squared-gradient average of rmsprop"),
      key("adam.beta1", NUMBER, "0.9", MATH,
          "Adam's first-moment decay"),
      key("adam.beta2", NUMBER, "0.999", MATH,
          "Adam's second-moment decay"),
      key("eps", NUMBER, "1e-8", MATH,
          "epsilon of rmsprop and adam"),
      choice("lr.schedule", dev.sparkprop.optim.LearningRate.Kind.class, "cosine", MATH,
          "constant, step (lr * lr.gamma every lr.step.epochs) or cosine (down to lr.min over the run)"),
      key("lr.gamma", NUMBER, "0.1", MATH,
          "factor of the step schedule"),
      key("lr.step.epochs", POSITIVE, "5", MATH,
          "epochs between decays of the step schedule"),
      key("lr.min", NUMBER, "0", MATH,
          "final rate of the cosine schedule"),
      key("lr.warmup.steps", INTEGER, "0", MATH,
          "steps of linear warm-up at the start"),
      key("lr.warmup.epochs", NUMBER, "0", MATH,
          "epochs of linear warm-up at the start (a number, e.g. 0.5; instead of lr.warmup.steps)"),
      key("lr.scale.batch", COUNT, "0", MATH,
          "linear scaling rule for large batches: the batch size lr (and lr.min) were tuned for; the rate used is lr * batch.size / lr.scale.batch (0 = lr as given). Pair it with lr.warmup.epochs"),
      choice("kernel", dev.sparkprop.nn.Kernel.class, "auto", ROUNDING,
          "matrix products: auto (the fastest kernel that loads, timed once per JVM on the network's largest product: normally the bundled OpenBLAS), openblas (the OpenBLAS that comes with the build), native (the system's libblas.so.3 through netlib: MKL, a vendor BLAS), java (netlib's JDK Vector API BLAS in a JVM with the `jdk.incubator.vector` module, as `submit/` starts them; its plain Java BLAS otherwise) or ejml (the reference)"),
      choice("sync.mode", TrainConfig.SyncMode.class, "barrier", NONE,
          "how the driver and the partitions exchange parameters and sums every step (the driver adds, divides and updates in both; same bits): barrier = one barrier stage per epoch whose tasks talk to the driver over direct connections (needs a free task slot per partition, no dynamic allocation); job = a Spark job per step (broadcast, tasks, collect; works everywhere, 15-35 ms a step)"),
      key("sync.port", COUNT, "0", NONE,
          "sync.mode=barrier: port the driver listens on for its tasks, on spark.driver.bindAddress (0 = any free port)"),
      choice("sync.socket", TrainConfig.SyncSocket.class, "auto", NONE,
          "sync.mode=barrier: auto = a task in the driver's JVM (local mode) exchanges in memory, tasks on the driver's machine through a Unix domain socket (about twice the throughput of TCP on loopback), others over TCP; tcp = every task over TCP"),
      choice("sync.topology", TrainConfig.SyncTopology.class, "auto", NONE,
          "sync.mode=barrier: how the sums go up and the parameters down (the driver adds the sums it receives, divides and updates in every topology, and the partitions' sums are added in one fixed order, so the bits are the same): star = every task exchanges with the driver (the driver's link carries 2 P copies of the vector a step); tree = the tasks form a fixed tree of fan-in sync.fanin over the partitions, each adding its children's sums into its own chunk by chunk on the way up and forwarding the parameters to them on the way down (the driver's link carries one copy each way); auto = star when the tasks run in the driver's JVM (local mode) or there are at most 2 partitions, else tree"),
      key("sync.fanin", POSITIVE, "2", NONE,
          "sync.topology=tree: the most sums a node (a task or the driver) receives; 2 = the reduction order's own binary tree, more = a flatter tree whose nodes also add some of their children's subtrees (more traffic on their links, fewer hops)"),
      key("sync.chunk", POSITIVE, "65536", NONE,
          "sync.topology=tree: bytes of a chunk, the unit a task forwards as soon as it has it (smaller: less delay per hop, more overhead per chunk)"),
      choice("sync.wire", TrainConfig.SyncWire.class, "fp32", MATH,
          "how vectors cross the exchange's links: fp32 = as they are; bf16 = bfloat16 (2 bytes a value, half the traffic): the parameters the tasks get, each partition's sum and every subtree's sum of the reduction order are rounded to nearest-even bfloat16, every addition is done in float and the driver keeps and updates float parameters (not the same math as fp32, the same bits in every transport and topology); exact SGD only (sync.every=1)"),
      key("sync.timeout", POSITIVE, "300", NONE,
          "sync.mode=barrier: seconds the driver waits for the tasks to connect and for each step's sums before the stage counts as failed"),
      key("sync.every", POSITIVE, "1", MATH,
          "averaging period K: 1 = exact synchronous SGD (gradients averaged every step); K > 1 = local SGD, each partition takes K steps on its own rows of the batches, then the driver averages parameters and optimizer state (K times fewer exchanges; not the same math)"),
      key("sync.retries", COUNT, "3", NONE,
          "sync.mode=barrier: times in a row a failed barrier stage (e.g. a lost executor) is launched again from the step that failed (Spark does not retry those itself)"),
      key("partitions", COUNT, "0", ROUNDING,
          "partitions of the cached training set (0 = Spark's default parallelism)"),
      key("eval.every", POSITIVE, "1", NONE,
          "evaluate on the test set every N epochs (the last epoch always)"),
      key("validation.path", TEXT, "", MATH,
          "validation data for model selection, evaluated after every epoch: a folder with the IDX pair `validation-images-idx3-ubyte`, `validation-labels-idx1-ubyte`, a Parquet dataset or CSV files (the API: `fit(train, validation)`); never the test set"),
      choice("validation.format", FORMATS, "auto", NONE,
          "format of `validation.path`: auto, idx, parquet or csv"),
      key("validation.fraction", NUMBER, "0", MATH,
          "hold out this fraction of the training rows (of the first `train.limit`) as the validation set, chosen from the seed: the same rows for the same seed and data; instead of `validation.path` (0 = none)"),
      key("early.stop.patience", COUNT, "0", MATH,
          "stop after N epochs in a row without a lower validation loss (0 = never); needs a validation set"),
      choice("keep", TrainConfig.Keep.class, "last", MATH,
          "the model's parameters: `last` epoch's, or `best` (lowest validation loss; needs a validation set); the test figures are the kept model's; checkpoints keep the choice, so a resume chooses the same"),
      key("log.every", POSITIVE, "100", NONE,
          "print the loss every N batches (when the console is not a terminal, or progress=plain)"),
      choice("progress", TrainConfig.ProgressMode.class, "auto", NONE,
          "auto: a progress bar on a terminal, plain loss lines otherwise; bar; plain"),
      key("out", TEXT, "", NONE,
          "run directory for metrics.csv, config.properties, the reports, checkpoints/ and model/: a local path or any Hadoop FileSystem URI (default runs/<timestamp>)"),
      key("overwrite", BOOLEAN, "false", NONE,
          "replace a model already in out/model (otherwise the run is refused before it starts)"),
      key("init.from", TEXT, "", MATH,
          "start from the weights of a saved model directory (its network must equal layers/activation)"),
      key("checkpoint.every", COUNT, "0", NONE,
          "write a checkpoint every N units (0 = never)"),
      choice("checkpoint.unit", TrainConfig.CheckpointUnit.class, "epoch", NONE,
          "unit of checkpoint.every: epoch or step"),
      key("checkpoint.keep", POSITIVE, "3", NONE,
          "keep the newest K checkpoints"),
      choice("resume", TrainConfig.Resume.class, "auto", NONE,
          "auto: continue from the newest valid checkpoint in out/ if there is one; true: require one; false: refuse to start over a run that has checkpoints"));

  private static final Map<String, Key> BY_NAME = new LinkedHashMap<>();

  static {
    for (Key k : ALL) BY_NAME.put(k.name(), k);
  }

  /** Keys of earlier versions, with what to do instead. */
  static final Map<String, String> REMOVED = Map.of(
      "sync.rendezvous", "no longer exists: the barrier stage's tasks connect to the driver directly; remove the key",
      "sync.rendezvous.port", "was renamed sync.port (the port the driver listens on for its tasks)");

  private ConfigKeys() {}

  /** The key called {@code name}, or null. */
  public static Key find(String name) {
    return BY_NAME.get(name);
  }

  /** The key called {@code name}; a programming error if there is none. */
  static Key of(String name) {
    Key k = BY_NAME.get(name);
    if (k == null) throw new IllegalArgumentException("no config key " + name);
    return k;
  }

  /**
   * README.md's configuration table, generated from the declarations: its header and one row a
   * key ({@code | `name` | `default` | doc |}, "(unset)" for an empty default), in table order.
   * {@code ConfigDocTest} checks that README holds exactly these lines.
   */
  public static List<String> readmeTable() {
    List<String> rows = new java.util.ArrayList<>(List.of("| key | default | meaning |", "|---|---|---|"));
    for (Key k : ALL) {
      rows.add("| `" + k.name() + "` | " + (k.defaultValue().isEmpty() ? "(unset)" : "`" + k.defaultValue() + "`") + " | "
          + k.doc() + " |");
    }
    return rows;
  }

  /** Prints {@link #readmeTable} (to paste into README.md after changing a key). */
  public static void main(String[] args) {
    for (String row : readmeTable()) System.out.println(row);
  }

  /** The keys that change the math ({@link Bits#MATH}), in table order. */
  public static List<String> math() {
    return ALL.stream().filter(k -> k.bits() == Bits.MATH).map(Key::name).toList();
  }

  /** " (did you mean 'x'?)" for the nearest key within three edits of {@code name}, else "". */
  static String suggestion(String name) {
    return suggestion(name, BY_NAME.keySet());
  }

  /** " (did you mean 'x'?)" for the nearest of {@code known} within three edits of {@code name}, else "". */
  public static String suggestion(String name, Iterable<String> known) {
    LevenshteinDistance within3 = new LevenshteinDistance(3);
    String best = null;
    int bestD = Integer.MAX_VALUE;
    for (String k : known) {
      int d = within3.apply(name, k);
      if (d >= 0 && d < bestD) {
        bestD = d;
        best = k;
      }
    }
    return best == null ? "" : " (did you mean '" + best + "'?)";
  }
}
