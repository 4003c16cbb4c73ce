/**
 * The commands that {@code submit/} runs: {@code Train}, {@code Evaluate}, {@code Predict}, {@code
 * Prepare}, {@code ExportOnnx}, with what only they need ({@code InputImages}, {@code ShardFrame},
 * {@code Interruption}). Their shared toolkit (arguments, exit codes, failure messages, the Spark
 * session) is in {@code command}. May import every package below it ({@code command}, {@code
 * spark}, {@code train} and its {@code step} and {@code sync}, {@code config}, {@code run},
 * {@code table}, {@code data}, {@code eval}, {@code io}, {@code nn}, {@code report}); nothing
 * imports it.
 */
package dev.sparkprop.cli;
