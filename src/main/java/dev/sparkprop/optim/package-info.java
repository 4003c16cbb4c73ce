/**
 * The optimizers ({@code Sgd}, {@code Momentum}, {@code Adam}, {@code RmsProp}), their state and
 * the learning-rate schedules, applied by the driver to the averaged gradient. Pure numeric code:
 * imports no Spark and no other sparkprop package.
 */
package dev.sparkprop.optim;
