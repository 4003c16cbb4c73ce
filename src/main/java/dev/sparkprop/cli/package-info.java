/**
 * The commands that {@code submit/} runs ({@code Train}, {@code Evaluate}, {@code Predict}, {@code
 * Prepare}, {@code ExportOnnx}) and their toolkit: argument parsing, exit codes, failure messages,
 * the Spark session. May import every package below it ({@code spark}, {@code train}, {@code table},
 * {@code data}, {@code eval}, {@code io}, {@code nn}, {@code report}); nothing imports it but {@code bench}
 * and {@code scale} (for the toolkit).
 */
package dev.sparkprop.cli;
