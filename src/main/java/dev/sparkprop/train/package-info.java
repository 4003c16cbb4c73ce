/**
 * Training: the driver's step loop ({@code DistributedTrainer}) and its state, what both sides
 * compute for a round ({@code Round}, {@code PartitionSum}, {@code ShardWorker}, {@code LocalSgd}),
 * how a round travels ({@code JobTransport}, {@code BarrierTransport} with its exchange, codec,
 * reduction order and tree topology), the configuration ({@code ConfigKeys}, {@code TrainConfig}),
 * and the run directory (checkpoints, step log, lock). May import {@code nn}, {@code optim},
 * {@code data}, {@code eval}, {@code io}; Spark Core.
 */
package dev.sparkprop.train;
