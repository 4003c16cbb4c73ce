package dev.sparkprop.config;

/**
 * The validation set's two rules, written once for the configuration, the command line, the Spark
 * application API and the trainer: there is at most one ({@code validation.fraction} holds rows
 * out of the training set, so it excludes a set of its own), and {@code keep=best} and
 * {@code early.stop.patience} need one (the test set never chooses the model). The callers say
 * how a set of its own is given there: {@code validation.path}, or the API's validation DataFrame.
 */
public final class ValidationSet {
  private ValidationSet() {}

  /**
   * Refuses {@code validation.fraction} beside a validation set of its own.
   *
   * @param given whether such a set is given
   * @param how how it is given, for the message ("validation.path", "a validation DataFrame")
   */
  public static void checkAtMostOne(TrainConfig cfg, boolean given, String how) {
    if (given && cfg.validationFraction() > 0) {
      throw new ConfigException("validation.fraction and " + how + " are both set; choose one validation set");
    }
  }

  /**
   * Refuses model selection without a validation set.
   *
   * @param exists whether the run has one (given, or held out by {@code validation.fraction})
   * @param how how a set of its own is given there, for the message
   */
  public static void checkNeeded(TrainConfig cfg, boolean exists, String how) {
    if (cfg.selectsModel() && !exists) {
      throw new ConfigException("keep=best and early.stop.patience need a validation set: set " + how
          + " or validation.fraction (the test set never chooses the model)");
    }
  }
}
