/**
 * Training: the driver's step loop ({@code DistributedTrainer}) and its state ({@code TrainState},
 * {@code Selection}, {@code EpochMetrics}, {@code StepStats}, {@code TrainResult}), the cached
 * training data ({@code TrainingData}, {@code MemoryBudget}), where the configuration meets its
 * data ({@code DataFit}), and the run directory (checkpoints, step log, lock). What a round
 * computes is in {@code train.step}, how it travels in {@code train.sync}, the configuration in
 * {@code config}. May import {@code train.step}, {@code train.sync}, {@code config}, {@code nn},
 * {@code optim}, {@code data}, {@code eval}, {@code io}; Spark Core.
 */
package dev.sparkprop.train;
