/**
 * Training: the driver's step loop ({@code DistributedTrainer}) and its state ({@code TrainState},
 * {@code Selection}, {@code TrainResult}), the cached training data ({@code TrainingData},
 * {@code MemoryBudget}), where the configuration meets its data ({@code DataFit}), and the
 * checkpoints of that state ({@code Checkpoints}). What a round computes is in {@code train.step},
 * how it travels in {@code train.sync}, the configuration in {@code config}, the run folder and
 * its rows in {@code run}. May import {@code train.step}, {@code train.sync}, {@code config},
 * {@code run}, {@code nn}, {@code optim}, {@code data}, {@code table}, {@code eval}, {@code io};
 * Spark Core.
 */
package dev.sparkprop.train;
