package testcluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// DefaultJava is the JVM every node and nodetool run on. Cassandra 5.0 needs
// Java 11 or 17; it cannot run on Java 24 or newer.
const DefaultJava = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"

// DefaultHeap is the default -Xms/-Xmx of a node.
const DefaultHeap = "512M"

// jpmsFlags are the module-system flags Cassandra 5.0 needs on Java 17:
// conf/jvm17-server.options ("### JPMS") plus the three bin/cassandra.in.sh
// adds when running on a JDK.
var jpmsFlags = []string{
	"-Djdk.attach.allowAttachSelf=true",
	"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
	"--add-exports", "java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
	"--add-exports", "java.management/com.sun.jmx.remote.security=ALL-UNNAMED",
	"--add-exports", "java.rmi/sun.rmi.registry=ALL-UNNAMED",
	"--add-exports", "java.rmi/sun.rmi.server=ALL-UNNAMED",
	"--add-exports", "java.sql/java.sql=ALL-UNNAMED",
	"--add-exports", "java.base/java.lang.ref=ALL-UNNAMED",
	"--add-exports", "jdk.unsupported/sun.misc=ALL-UNNAMED",
	"--add-opens", "java.base/java.lang.module=ALL-UNNAMED",
	"--add-opens", "java.base/jdk.internal.loader=ALL-UNNAMED",
	"--add-opens", "java.base/jdk.internal.ref=ALL-UNNAMED",
	"--add-opens", "java.base/jdk.internal.reflect=ALL-UNNAMED",
	"--add-opens", "java.base/jdk.internal.math=ALL-UNNAMED",
	"--add-opens", "java.base/jdk.internal.module=ALL-UNNAMED",
	"--add-opens", "java.base/jdk.internal.util.jar=ALL-UNNAMED",
	"--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
	"--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
	"--add-opens", "java.base/java.io=ALL-UNNAMED",
	"--add-opens", "java.base/java.lang.reflect=ALL-UNNAMED",
	"--add-opens", "java.base/java.lang=ALL-UNNAMED",
	"--add-opens", "java.base/java.util=ALL-UNNAMED",
	"--add-opens", "java.base/java.nio=ALL-UNNAMED",
	"--add-exports", "jdk.attach/sun.tools.attach=ALL-UNNAMED",
	"--add-exports", "jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
	"--add-opens", "jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
}

// serverArgs returns the JVM arguments that start one node.
func serverArgs(libDir, heap string, f nodeFiles, jmxPort int) []string {
	args := []string{
		"-Xms" + heap, "-Xmx" + heap, "-Xss256k",
		"-XX:+UseG1GC", "-XX:+ParallelRefProcEnabled", "-XX:MaxTenuringThreshold=1",
		"-XX:+ExitOnOutOfMemoryError", "-XX:+PerfDisableSharedMem",
		"-XX:TieredStopAtLevel=1",
	}
	args = append(args, jpmsFlags...)
	if jamm := findJar(libDir, "jamm-*.jar"); jamm != "" {
		args = append(args, "-javaagent:"+jamm)
	}
	tmp := filepath.Join(f.Dir, "tmp")
	args = append(args,
		"-Djava.net.preferIPv4Stack=true",
		"-Djava.io.tmpdir="+tmp,
		"-Dchronicle.analytics.disable=true",
		"-Dio.netty.tryReflectionSetAccessible=true",
		"-Dio.netty.allocator.useCacheForAllThreads=true",
		"-Dio.netty.allocator.maxOrder=11",
		"-Dcassandra.config=file://"+f.Yaml,
		"-Dcassandra-rackdc.properties=file://"+f.RackDC,
		"-Dcassandra.storagedir="+f.Dir,
		"-Dcassandra.logdir="+filepath.Join(f.Dir, "logs"),
		"-Dcassandra.triggers_dir="+filepath.Join(f.Dir, "triggers"),
		"-Dlogback.configurationFile="+f.Logback,
		"-Dcassandra-foreground=yes",
		"-Dcassandra.jmx.local.port="+strconv.Itoa(jmxPort),
		"-Dcom.sun.management.jmxremote.authenticate=false",
		"-Dcassandra.skip_wait_for_gossip_to_settle=0",
		"-Dcassandra.superuser_setup_delay_ms=0",
		"-Dcassandra.unsafesystem=true",
		"-Dcassandra.test.flush_local_schema_changes=false",
		"-Dcassandra.libjemalloc=-",
		"-cp", filepath.Join(libDir, "*"),
		"org.apache.cassandra.service.CassandraDaemon",
	)
	return args
}

// nodetoolArgs returns the JVM arguments that run nodetool against the node
// whose local JMX port is jmxPort.
func nodetoolArgs(libDir string, f nodeFiles, jmxPort int, command ...string) []string {
	args := []string{"-Xmx128m", "-Xss256k", "-XX:TieredStopAtLevel=1", "-XX:+PerfDisableSharedMem"}
	args = append(args, jpmsFlags...)
	args = append(args,
		"-Djava.net.preferIPv4Stack=true",
		// nodetool keeps its history below user.home.
		"-Duser.home="+filepath.Join(f.Dir, "tmp"),
		"-Djava.io.tmpdir="+filepath.Join(f.Dir, "tmp"),
		"-Dlogback.configurationFile="+f.ToolsLog,
		"-cp", filepath.Join(libDir, "*"),
		"org.apache.cassandra.tools.NodeTool",
		"-h", "127.0.0.1", "-p", strconv.Itoa(jmxPort),
	)
	return append(args, command...)
}

// findJar returns the first file in dir matching pattern, or "".
func findJar(dir, pattern string) string {
	m, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(m) == 0 {
		return ""
	}
	return m[0]
}

// checkLibDir reports whether dir looks like a resolved Cassandra classpath.
func checkLibDir(dir string) error {
	if dir == "" {
		return fmt.Errorf("no cassandra jar directory given (run scripts/fetch-cassandra.sh)")
	}
	if findJar(dir, "cassandra-all-*.jar") == "" {
		return fmt.Errorf("no cassandra-all jar in %s (run scripts/fetch-cassandra.sh)", dir)
	}
	return nil
}

// checkJava reports whether java exists and is executable.
func checkJava(java string) error {
	st, err := os.Stat(java)
	if err != nil {
		return fmt.Errorf("java 17 not found at %s (on Debian: apt-get install openjdk-17-jdk-headless): %w", java, err)
	}
	if st.Mode()&0o111 == 0 {
		return fmt.Errorf("java at %s is not executable", java)
	}
	return nil
}
