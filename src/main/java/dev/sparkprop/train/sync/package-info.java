/**
 * How a round travels between the driver and the partitions. The face is {@code Transport} and
 * its {@code open}: {@code JobTransport} (a Spark job per round, the parameters as a broadcast)
 * or {@code BarrierTransport} (one barrier stage per epoch and its relaunches; its driver side
 * {@code Exchange}, task sides {@code TaskPeer}, {@code ExchangeClient} and {@code MemoryLink},
 * codec {@code Wire}, and with {@code sync.topology=tree} {@code TreeTopology}, {@code TreeNode}
 * and {@code PeerChannel}). {@code TaskSlots} counts the slots a barrier stage needs at once;
 * {@code Broadcasts} destroys broadcasts without waiting. What a round computes is
 * {@code train.step}'s; what the driver does with the sums is {@code train}'s. May import
 * {@code train.step}, {@code config}, {@code data}; Spark Core.
 */
package dev.sparkprop.train.sync;
