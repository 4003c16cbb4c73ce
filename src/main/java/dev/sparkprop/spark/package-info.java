/**
 * The Spark application API: {@code SparkpropClassifier} (a DataFrame in, a model out) and {@code
 * SparkpropModel} ({@code transform}, {@code evaluate}), the shared training run behind it and the
 * command line, and the row-wise scoring and evaluation of DataFrames. May import {@code train},
 * {@code table}, {@code data}, {@code nn}, {@code eval}, {@code io}; Spark SQL.
 */
package dev.sparkprop.spark;
