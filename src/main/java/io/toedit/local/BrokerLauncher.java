package io.toedit.local;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Main class of the child JVM that {@link LocalBroker} starts: {@code BrokerLauncher <main-class>
 * <args...>}. It runs the given main class (normally {@code kafka.Kafka}) and, on a daemon thread,
 * reads its stdin, which is a pipe from the parent JVM. End of stream means the parent is gone (also
 * after {@code kill -9}, which runs no shutdown hook), and the broker exits through its own shutdown
 * hook, so no orphaned broker keeps the ports and the data directory.
 */
public final class BrokerLauncher {

  private BrokerLauncher() {
  }

  public static void main(String[] args) throws Throwable {
    if (args.length < 1) {
      System.err.println("usage: BrokerLauncher <main-class> [args...]");
      System.exit(2);
    }
    Thread watchdog = new Thread(BrokerLauncher::exitWhenParentGoes, "parent-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    Method main = Class.forName(args[0]).getMethod("main", String[].class);
    try {
      main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
    } catch (java.lang.reflect.InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private static void exitWhenParentGoes() {
    InputStream in = System.in;
    byte[] buffer = new byte[256];
    try {
      while (in.read(buffer) >= 0) {
        // the parent never writes; anything read is ignored
      }
    } catch (IOException e) {
      System.err.println("parent-watchdog: stdin failed (" + e + "), treating the parent as gone");
    }
    System.err.println("parent-watchdog: the parent process is gone, stopping the broker");
    System.exit(0);
  }
}
