package dev.sparkprop.train.sync;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * One connection of a task in {@code sync.topology=tree} (to its parent, a child or the driver):
 * a non-blocking channel with its own selector, so that a read can wait with a deadline and a
 * cancelled task (interrupted by Spark) stops waiting at once. Reads and writes are whole.
 */
final class PeerChannel implements AutoCloseable {
  final SocketChannel channel;
  String name; // "partition 3", "the driver": for messages
  private final Selector selector;
  private final SelectionKey key;

  PeerChannel(SocketChannel channel, String name) throws IOException {
    this.channel = channel;
    this.name = name;
    channel.configureBlocking(false);
    selector = Selector.open();
    key = channel.register(selector, 0);
  }

  /** This channel under another name (once a hello said who it is). */
  PeerChannel named(String newName) {
    this.name = newName;
    return this;
  }

  /**
   * Reads {@code b} full, waiting at most until {@code deadline} ({@link System#nanoTime()};
   * {@link Long#MAX_VALUE} for no limit).
   */
  void readFully(ByteBuffer b, long deadline) throws IOException {
    while (b.hasRemaining()) {
      int n = channel.read(b);
      if (n < 0) throw new EOFException(name + " closed the connection");
      if (n > 0 || !b.hasRemaining()) continue;
      await(SelectionKey.OP_READ, deadline);
    }
  }

  /** Writes {@code b} whole (the peer reads as it goes). */
  void writeFully(ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      if (channel.write(b) == 0) await(SelectionKey.OP_WRITE, Long.MAX_VALUE);
    }
  }

  private void await(int op, long deadline) throws IOException {
    key.interestOps(op);
    long left = deadline == Long.MAX_VALUE ? 0 : (deadline - System.nanoTime()) / 1_000_000L;
    if (deadline != Long.MAX_VALUE && left <= 0) throw new SocketTimeoutException("timed out waiting for " + name);
    selector.select(deadline == Long.MAX_VALUE ? 0 : Math.max(1, left));
    selector.selectedKeys().clear();
    key.interestOps(0);
    if (Thread.interrupted()) throw new InterruptedIOException("interrupted while waiting for " + name);
  }

  @Override
  public void close() {
    try {
      selector.close();
    } catch (IOException e) {
      // closing anyway
    }
    try {
      channel.close();
    } catch (IOException e) {
      // closing anyway
    }
  }
}
