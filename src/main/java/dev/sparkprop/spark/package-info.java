/**
 * The Spark application API: {@code SparkpropClassifier} (a DataFrame in, a model out) and {@code
 * SparkpropModel} ({@code transform}, {@code evaluate}), and the row-wise scoring and evaluation of
 * DataFrames; the training run it shares with the command line is {@code train.TrainingRun}. May
 * import {@code train}, {@code config}, {@code run}, {@code table}, {@code data}, {@code nn},
 * {@code eval}, {@code io}; Spark SQL.
 */
package dev.sparkprop.spark;
