/**
 * The training configuration: {@code ConfigKeys} (every key declared once: its type, default,
 * allowed words, whether it changes the bits, its documentation) and {@code TrainConfig} (the
 * immutable typed configuration, parsed and checked once on the driver and shipped as it is),
 * {@code NetworkKeys} (the network the keys name) and {@code ValidationSet} (the validation set's
 * rules).
 * Where the configuration meets its data ({@code train.DataFit}) is not here: this package reads
 * keys, not inputs. May import {@code nn} and {@code optim} (the factories it names) and
 * {@code data} (the data specification's types); no Spark.
 */
package dev.sparkprop.config;
