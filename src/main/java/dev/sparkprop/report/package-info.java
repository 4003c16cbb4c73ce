/**
 * Charts (PNG, through JFreeChart) and the run report of a training run. May import {@code train},
 * {@code eval}.
 */
package dev.sparkprop.report;
