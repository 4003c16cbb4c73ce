/**
 * The scaling demo's analysis: its reports, the step cost model of real executors ({@code
 * StepModel}, {@code ScalingModel}) and the exchange model of emulated hosts ({@code
 * ExchangeModel}), fitted by non-negative least squares ({@code LeastSquares}). No Spark. May
 * import {@code report}, {@code command} (arguments, exit codes).
 */
package dev.sparkprop.scale;
