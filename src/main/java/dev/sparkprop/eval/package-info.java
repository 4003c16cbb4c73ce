/**
 * Evaluation on the executors: what a partition computes ({@code EvalFunction}, {@code EvalSum}:
 * loss, accuracy, confusion counts) and the class report the driver builds from their sum. May
 * import {@code nn}, {@code data}.
 */
package dev.sparkprop.eval;
