/**
 * Training data as the trainer sees it: the data specification ({@code DataSpec}) and its
 * format ({@code DataFormat}: detected from a path, or a {@code *.format} key's word),
 * MNIST's IDX files and PNG images, packed shards of mini-batch blocks and their reader, the
 * permutation of rows, feature statistics and scaling, fingerprints. No Spark; imports no other
 * sparkprop package.
 */
package dev.sparkprop.data;
