/**
 * A run's folder and what a run writes there: {@code RunDirectory} (the folder on any Hadoop
 * file system URI, each file written whole and renamed into place), {@code RunLock} (one writer
 * a folder), {@code EpochMetrics} (a row of metrics.csv), {@code StepStats} (a row of steps.csv)
 * and {@code StepLog} (those rows as the checkpoint's columns). The checkpoints themselves
 * ({@code train.Checkpoints}) stay beside the state they save, so this package never imports
 * {@code train}. May import {@code config}, {@code io}; no Spark.
 */
package dev.sparkprop.run;
