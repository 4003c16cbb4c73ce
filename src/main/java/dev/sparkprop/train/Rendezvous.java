package dev.sparkprop.train;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where the hub of an {@link AllReduceEpoch} listens, told to its peers through a small socket
 * server on the driver ({@code sync.rendezvous=driver}): the hub registers {@code host:port}
 * under its stage attempt, every other task asks for it and waits until it is there. It replaces
 * {@code BarrierTaskContext.allGather}, which Spark 4.2 polls once a second (about 1 s of every
 * epoch here). Needs the executors to reach the driver on one more port
 * ({@code sync.rendezvous.port}, 0 = any free port).
 */
final class Rendezvous implements AutoCloseable {
  private final ServerSocket server;
  private final Thread acceptor;
  private final Map<String, String> hubs = new HashMap<>();
  private final List<Socket> open = new ArrayList<>();
  private volatile boolean closed;

  Rendezvous(String host, int port) throws IOException {
    server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getByName(host), port));
    acceptor = new Thread(this::acceptLoop, "sparkprop-rendezvous");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** {@code host:port} the tasks connect to. */
  String address() {
    return server.getInetAddress().getHostAddress() + ":" + server.getLocalPort();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        synchronized (open) {
          open.add(s);
        }
        Thread t = new Thread(() -> serve(s), "sparkprop-rendezvous-client");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        if (server.isClosed()) return;
      }
    }
  }

  /** Request: key (stage and attempt), then "" to ask or the hub's address to register. */
  private void serve(Socket s) {
    try (s) {
      DataInputStream in = new DataInputStream(s.getInputStream());
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      String key = in.readUTF();
      String hub = in.readUTF();
      synchronized (hubs) {
        if (!hub.isEmpty()) {
          hubs.put(key, hub);
          hubs.notifyAll();
        }
        while (!hubs.containsKey(key) && !closed) hubs.wait();
        if (closed) return;
        hub = hubs.get(key);
      }
      out.writeUTF(hub);
      out.flush();
    } catch (IOException | InterruptedException e) {
      // the task went away (cancelled, failed): it will ask again on retry
    } finally {
      synchronized (open) {
        open.remove(s);
      }
    }
  }

  /**
   * From a task: registers (hub) or looks up (others) the hub's address for {@code key}. Waits
   * in slices of half a second so that a cancelled task notices ({@code cancelled}) and ends.
   */
  static String exchange(String rendezvous, String key, String hubAddress, java.util.function.BooleanSupplier cancelled)
      throws IOException {
    InetSocketAddress at = socketAddress(rendezvous);
    while (true) {
      try (Socket s = new Socket()) {
        s.connect(at);
        s.setSoTimeout(500);
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        out.writeUTF(key);
        out.writeUTF(hubAddress == null ? "" : hubAddress);
        out.flush();
        return new DataInputStream(s.getInputStream()).readUTF();
      } catch (java.net.SocketTimeoutException e) {
        if (cancelled.getAsBoolean()) throw new org.apache.spark.TaskKilledException("barrier stage cancelled");
      }
    }
  }

  /** {@code host:port} as a socket address. */
  static InetSocketAddress socketAddress(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
  }

  @Override
  public void close() throws IOException {
    closed = true;
    server.close();
    synchronized (open) {
      for (Socket s : open) {
        try {
          s.close();
        } catch (SocketException e) {
          // closing anyway
        }
      }
    }
    synchronized (hubs) {
      hubs.notifyAll();
    }
  }
}
