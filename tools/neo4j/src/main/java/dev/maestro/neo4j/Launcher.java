package dev.maestro.neo4j;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import org.neo4j.cli.ExecutionContext;
import org.neo4j.commandline.admin.security.SetInitialPasswordCommand;
import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.internal.kernel.api.connectioninfo.ClientConnectionInfo;
import org.neo4j.internal.kernel.api.security.AuthenticationResult;
import org.neo4j.io.ByteUnit;
import org.neo4j.io.fs.DefaultFileSystemAbstraction;
import org.neo4j.kernel.api.security.AuthManager;
import org.neo4j.kernel.api.security.AuthToken;
import org.neo4j.kernel.internal.GraphDatabaseAPI;
import org.neo4j.logging.log4j.Log4jLogProvider;
import picocli.CommandLine;

/**
 * Runs a persistent, authenticated Neo4j 5 Community server (Bolt, optionally HTTP) in this JVM.
 *
 * <p>Uses the public embedded API ({@link DatabaseManagementServiceBuilder}) rather than the test
 * harness, because the harness always works in a random temp folder that it deletes on close.
 *
 * <p>Environment:
 * <ul>
 *   <li>{@code NEO4J_PASSWORD} (required, min 8 chars) - password of the {@code neo4j} user</li>
 *   <li>{@code NEO4J_DATA_DIR} (required) - Neo4j home; store, transaction logs and conf live here</li>
 *   <li>{@code NEO4J_BOLT_LISTEN} (default {@code 127.0.0.1:7687}) - loopback host:port</li>
 *   <li>{@code NEO4J_HTTP_LISTEN} (default {@code 127.0.0.1:7474}; {@code off} disables HTTP)</li>
 *   <li>{@code NEO4J_DEBUG_LOG_LEVEL} (default {@code WARN}) - level of Neo4j's debug log on stderr</li>
 *   <li>{@code NEO4J_PAGECACHE} (default {@code 256m}) - page cache size ({@code 512m}, {@code 3g} …)</li>
 * </ul>
 *
 * <p>Exit codes: 0 clean shutdown (also after SIGTERM/SIGINT), 1 start-up failure,
 * 2 bad configuration, 3 port already in use. Prints {@code NEO4J_READY bolt://host:port} once
 * Bolt accepts connections.
 */
public final class Launcher {
    private static final String ADMIN_USER = "neo4j";
    private static final int MIN_PASSWORD_LENGTH = 8;
    /** Written once the first start has set the password (and Bolt never exposed neo4j/neo4j). */
    private static final String PASSWORD_MARKER = ".maestro-password-initialized";

    private static final int EXIT_FAILURE = 1;
    private static final int EXIT_CONFIG = 2;
    private static final int EXIT_PORT_IN_USE = 3;

    private Launcher() {}

    public static void main(String[] args) {
        String password = System.getenv("NEO4J_PASSWORD");
        if (password == null || password.length() < MIN_PASSWORD_LENGTH) {
            die(EXIT_CONFIG, "NEO4J_PASSWORD must be set (at least " + MIN_PASSWORD_LENGTH + " characters)");
        }
        String dataDir = System.getenv("NEO4J_DATA_DIR");
        if (dataDir == null || dataDir.isBlank()) {
            die(EXIT_CONFIG, "NEO4J_DATA_DIR must be set");
        }
        SocketAddress bolt = loopbackAddress("NEO4J_BOLT_LISTEN", "127.0.0.1:7687");
        String httpEnv = envOr("NEO4J_HTTP_LISTEN", "127.0.0.1:7474");
        SocketAddress http = isOff(httpEnv) ? null : loopbackAddress("NEO4J_HTTP_LISTEN", httpEnv);

        // Fail fast with one readable line instead of a Netty/Jetty stack trace.
        ensurePortFree(bolt);
        if (http != null) {
            ensurePortFree(http);
        }

        Path home = Paths.get(dataDir).toAbsolutePath().normalize();
        try {
            Files.createDirectories(home.resolve("conf"));
            writeServerLogConfig(home);
        } catch (IOException e) {
            die(EXIT_FAILURE, "cannot prepare data dir " + home + ": " + e.getMessage());
        }

        // Whatever DBMS is running when SIGTERM/SIGINT (or System.exit) arrives is shut down cleanly.
        AtomicReference<DatabaseManagementService> running = new AtomicReference<>();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            DatabaseManagementService dbms = running.getAndSet(null);
            if (dbms != null) {
                System.out.println("neo4j: shutting down");
                dbms.shutdown();
                System.out.flush();
            }
            stopped.countDown();
        }, "neo4j-shutdown"));
        installSignalExit("TERM");
        installSignalExit("INT");

        try {
            // The default neo4j/neo4j login must never be reachable over the network.
            Path marker = home.resolve(PASSWORD_MARKER);
            boolean firstStart = !Files.exists(marker);
            if (firstStart && !Files.exists(home.resolve("data/databases/system"))) {
                // Fresh store: same as `neo4j-admin dbms set-initial-password`; applied when the
                // system database is created, before Bolt starts listening.
                setInitialPassword(home, password);
            } else if (firstStart) {
                // Existing store we did not initialise: set the password with no connector open.
                DatabaseManagementService offline = builder(home, null, null).build();
                running.set(offline);
                syncPassword(offline, password);
                if (running.compareAndSet(offline, null)) {
                    offline.shutdown();
                }
            }

            DatabaseManagementService dbms = builder(home, bolt, http).build();
            running.set(dbms);
            // NEO4J_PASSWORD is the source of truth: apply it (and clear change-required) on every start.
            syncPassword(dbms, password);
            if (firstStart) {
                Files.deleteIfExists(home.resolve("data/dbms/auth.ini")); // consumed; holds a password hash
                Files.writeString(marker, "initial password set\n");
            }
            awaitBolt(bolt, Duration.ofSeconds(60));

            System.out.println("NEO4J_READY bolt://" + uriHost(bolt) + ":" + bolt.getPort());
            System.out.flush();
            stopped.await();
        } catch (Throwable t) {
            t.printStackTrace();
            System.err.println("neo4j: failed to start: " + rootCause(t)); // last line = the summary
            System.exit(EXIT_FAILURE); // the shutdown hook stops a half-started DBMS
        }
    }

    /** Embedded Community DBMS; a null address disables that connector. */
    private static DatabaseManagementServiceBuilder builder(Path home, SocketAddress bolt, SocketAddress http) {
        DatabaseManagementServiceBuilder b = new DatabaseManagementServiceBuilder(home)
                .setUserLogProvider(new Log4jLogProvider(System.out))
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(GraphDatabaseSettings.auth_minimum_password_length, MIN_PASSWORD_LENGTH)
                .setConfig(GraphDatabaseSettings.udc_enabled, false) // no usage-data phone-home
                // User-log lines already go to stdout; don't repeat them in the stderr debug log.
                .setConfig(GraphDatabaseInternalSettings.duplication_user_messages, false)
                // Memory: page cache from NEO4J_PAGECACHE (default 256m); heap is set on the java command
                // line (-Xmx). Transaction memory stays at Neo4j's default cap (70% of heap), so big
                // transactions fail, not the JVM.
                .setConfig(GraphDatabaseSettings.pagecache_memory, pageCache())
                // Runaway queries and lock waits are cut off instead of hanging the app.
                .setConfig(GraphDatabaseSettings.transaction_timeout, Duration.ofMinutes(2))
                .setConfig(GraphDatabaseSettings.lock_acquisition_timeout, Duration.ofSeconds(30))
                // Keep transaction logs small on a dev box: each log file is preallocated at the rotation
                // size (default 256 MiB per database, i.e. ~0.5 GB for an empty DBMS).
                .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, ByteUnit.mebiBytes(32))
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "128M size")
                // Netty waits a 5 s quiet period per event-loop group on shutdown (10 s total); 1 s is plenty.
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 1)
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(BoltConnector.enabled, bolt != null)
                .setConfig(HttpConnector.enabled, http != null);
        if (bolt != null) {
            b.setConfig(BoltConnector.listen_address, bolt)
                    .setConfig(BoltConnector.advertised_address, bolt)
                    .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED);
        }
        if (http != null) {
            b.setConfig(HttpConnector.listen_address, http).setConfig(HttpConnector.advertised_address, http);
        }
        return b;
    }

    /** Writes data/dbms/auth.ini via Neo4j's own set-initial-password command (no change required). */
    private static void setInitialPassword(Path home, String password) {
        PrintStream discard = new PrintStream(OutputStream.nullOutputStream());
        var ctx = new ExecutionContext(
                home, home.resolve("conf"), discard, System.err, new DefaultFileSystemAbstraction());
        int rc = new CommandLine(new SetInitialPasswordCommand(ctx)).execute("--", password);
        if (rc != 0) {
            throw new IllegalStateException("set-initial-password failed with exit code " + rc);
        }
    }

    /** Sets the neo4j password and clears the "change required" flag via the system database. */
    private static void syncPassword(DatabaseManagementService dbms, String password) {
        var system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        if (passwordIsCurrent(system, password)) {
            return; // nothing to change; skips the (cold, several seconds) Cypher administration path
        }
        try {
            system.executeTransactionally(
                    "ALTER USER " + ADMIN_USER + " SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
        } catch (RuntimeException e) {
            // Neo4j refuses to "change" a password to its current value; then only clear the flag.
            if (!String.valueOf(e.getMessage()).contains("cannot be the same")) {
                throw e;
            }
            system.executeTransactionally("ALTER USER " + ADMIN_USER + " SET PASSWORD CHANGE NOT REQUIRED");
        }
    }

    /**
     * True if neo4j/password already logs in without a forced password change. Uses the kernel's
     * AuthManager (internal API, so any problem just means "unknown" and the ALTER USER path runs).
     */
    private static boolean passwordIsCurrent(GraphDatabaseService system, String password) {
        try {
            AuthManager auth = ((GraphDatabaseAPI) system).getDependencyResolver().resolveDependency(AuthManager.class);
            var login = auth.login(
                    AuthToken.newBasicAuthToken(ADMIN_USER, password.getBytes(StandardCharsets.UTF_8)),
                    ClientConnectionInfo.EMBEDDED_CONNECTION);
            return login.subject().getAuthenticationResult() == AuthenticationResult.SUCCESS;
        } catch (Exception | LinkageError e) {
            return false;
        }
    }

    /** Waits until the Bolt port completes a protocol handshake. */
    private static void awaitBolt(SocketAddress bolt, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(bolt.getHostname(), bolt.getPort()), 2000);
                s.setSoTimeout(2000);
                OutputStream out = s.getOutputStream();
                // Magic preamble, then proposals: 5.0-5.8, 4.4, none, none.
                out.write(new byte[] {
                    0x60, 0x60, (byte) 0xB0, 0x17,
                    0, 8, 8, 5, 0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0
                });
                out.flush();
                byte[] reply = s.getInputStream().readNBytes(4);
                if (reply.length == 4 && (reply[2] != 0 || reply[3] != 0)) {
                    return;
                }
            } catch (IOException e) {
                // not ready yet
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Bolt did not become ready on " + bolt + " within " + timeout);
            }
            Thread.sleep(200);
        }
    }

    /** A trapped SIGTERM/SIGINT becomes System.exit(0): shutdown hooks run and the exit code is 0. */
    private static void installSignalExit(String name) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> new Thread(() -> System.exit(0)).start());
        } catch (IllegalArgumentException e) {
            // signal not available on this platform; the default handling still runs the shutdown hook
        }
    }

    /** Debug/security logs go to stderr (Neo4j's default would write logs/debug.log). */
    private static void writeServerLogConfig(Path home) throws IOException {
        String xml = """
                <?xml version="1.0" encoding="UTF-8"?>
                <!-- Generated by dev.maestro.neo4j.Launcher on every start; edits are overwritten. -->
                <Configuration status="ERROR">
                  <Appenders>
                    <Console name="Stderr" target="SYSTEM_ERR">
                      <PatternLayout pattern="%d{yyyy-MM-dd HH:mm:ss.SSSZ}{GMT+0} %-5p [%c{1.}] %m%n"/>
                    </Console>
                  </Appenders>
                  <Loggers>
                    <Root level="@LEVEL@"><AppenderRef ref="Stderr"/></Root>
                    <Logger name="QueryLogger" level="OFF" additivity="false"/>
                    <Logger name="HttpLogger" level="OFF" additivity="false"/>
                    <!-- harmless "Unknown channel option 'SO_REUSEADDR'" for the in-JVM bolt-local channel -->
                    <Logger name="io.netty.bootstrap.ServerBootstrap" level="ERROR"/>
                    <Logger name="SecurityLogger" level="WARN" additivity="false"><AppenderRef ref="Stderr"/></Logger>
                  </Loggers>
                </Configuration>
                """.replace("@LEVEL@", envOr("NEO4J_DEBUG_LOG_LEVEL", "WARN"));
        Files.writeString(home.resolve("conf").resolve("server-logs.xml"), xml, StandardCharsets.UTF_8);
    }

    /** Exits with code 3 and one line on stderr if host:port is taken (2 if it cannot be bound at all). */
    private static void ensurePortFree(SocketAddress address) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true); // ignore TIME_WAIT leftovers from a previous run
            probe.bind(new InetSocketAddress(address.getHostname(), address.getPort()));
        } catch (IOException e) {
            String reason = String.valueOf(e.getMessage());
            if (e instanceof BindException && reason.contains("in use")) {
                die(EXIT_PORT_IN_USE, "port " + address + " is already in use");
            }
            die(EXIT_CONFIG, "cannot bind " + address + ": " + reason);
        }
    }

    /** Parses host:port (IPv6 as [::1]:port) and insists on a loopback host. */
    private static SocketAddress loopbackAddress(String env, String fallback) {
        String value = envOr(env, fallback).trim();
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            die(EXIT_CONFIG, env + " must be host:port, got '" + value + "'");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = -1;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            // handled below
        }
        if (port < 1 || port > 65535) {
            die(EXIT_CONFIG, env + " has an invalid port: '" + value + "'");
        }
        try {
            if (!InetAddress.getByName(host).isLoopbackAddress()) {
                die(EXIT_CONFIG, env + " must be a loopback address (got " + host + ")");
            }
        } catch (IOException e) {
            die(EXIT_CONFIG, env + " has an unknown host: " + host);
        }
        return new SocketAddress(host, port);
    }

    private static String rootCause(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }

    private static String uriHost(SocketAddress address) {
        String host = address.getHostname();
        return host.contains(":") ? "[" + host + "]" : host;
    }

    private static boolean isOff(String value) {
        String v = value.trim().toLowerCase();
        return v.isEmpty() || v.equals("off") || v.equals("false") || v.equals("disabled") || v.equals("none");
    }

    /** NEO4J_PAGECACHE as bytes (Neo4j's size syntax: 256m, 3g …); a bad value is a config error. */
    private static long pageCache() {
        String raw = envOr("NEO4J_PAGECACHE", "256m").trim();
        try {
            long bytes = ByteUnit.parse(raw);
            if (bytes < ByteUnit.mebiBytes(8)) {
                throw new IllegalArgumentException("too small");
            }
            return bytes;
        } catch (RuntimeException e) {
            die(EXIT_CONFIG, "NEO4J_PAGECACHE must be a size of at least 8m (e.g. 512m, 3g), got '" + raw + "'");
            return 0;
        }
    }

    private static String envOr(String name, String fallback) {
        String v = System.getenv(name);
        return v == null ? fallback : v;
    }

    private static void die(int code, String message) {
        System.err.println("neo4j: " + message);
        System.err.flush();
        System.exit(code);
    }
}
