/**
 * What both sides compute for a round: {@code Round} (what the driver asks: an epoch's steps),
 * {@code PartitionSum} (what a partition answers), {@code ShardWorker} (the executor side: a
 * step's gradient sum or a local-SGD round on a cached shard), {@code LocalSgd} (its packed
 * parameters and optimizer state), {@code ReductionTree} (the one order of the additions, on the
 * driver and in a tree of tasks alike), {@code Reducer} (the driver's reduce of the P answers) and
 * {@code Bf16} (the rounding of {@code sync.wire=bf16}). How a round travels is
 * {@code train.sync}'s. May import {@code config}, {@code nn}, {@code optim}, {@code data};
 * no Spark.
 */
package dev.sparkprop.train.step;
