/**
 * Measurement tools: {@code Bench} (the training step, and the exchange with a compute stand-in),
 * the bench floor, charts and tables of bench runs, a synthetic table generator. Never used by
 * training. May import {@code train}, {@code nn}, {@code data}, {@code report}, {@code command}.
 */
package dev.sparkprop.bench;
