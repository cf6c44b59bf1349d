// Over 450 lines: one check per concern of the manifests (ports, probes, every hop's TLS, policy, budget, the environment, the node's start checks, the deploy README) and the YAML helpers they share.
package io.clearinghouse.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Checks deploy/kubernetes/*.yaml (and deploy/container/Containerfile) against the node's real
 * configuration: kubernetes.conf, the files it includes and the reference.conf files on the
 * classpath, resolved with the environment and JAVA_OPTS that the Deployment sets — so that a
 * port, path, label or file name changed on one side only fails here, not in a cluster.
 */
class KubernetesManifestsTest {

  /** Stands in for status.podIP, which only the kubelet knows. */
  private static final String POD_IP = "10.1.2.3";
  private static final String NODE_CONTAINER = "clearing-node";

  private static Path repoRoot;
  private static List<Manifest> manifests;
  private static Map<String, Object> deployment;
  private static Map<String, Object> podSpec;
  private static Map<String, Object> container;
  private static Map<String, String> javaOptsProperties;
  private static Config node;

  /** One YAML document of one file. */
  record Manifest(Path file, Map<String, Object> doc) {
    String kind() {
      return string(doc, "kind");
    }

    String name() {
      return string(map(doc, "metadata"), "name");
    }
  }

  @BeforeAll
  static void load() throws IOException {
    repoRoot = findRepoRoot();
    manifests = readManifests(repoRoot.resolve("deploy/kubernetes"));
    deployment = only("Deployment").doc();
    podSpec = map(map(map(deployment, "spec"), "template"), "spec");
    container = list(podSpec, "containers").stream()
        .map(KubernetesManifestsTest::asMap)
        .filter(c -> NODE_CONTAINER.equals(c.get("name")))
        .findFirst()
        .orElseThrow(() -> new AssertionError("deployment.yaml has no container named " + NODE_CONTAINER));
    javaOptsProperties = systemProperties(literalEnv().getOrDefault("JAVA_OPTS", ""));
    node = nodeConfig();
  }

  @Test
  void everyManifestParsesAndIsNamespaceAgnostic() {
    assertFalse(manifests.isEmpty());
    for (Manifest manifest : manifests) {
      String where = manifest.file().getFileName() + " " + manifest.kind() + "/" + manifest.name();
      assertNotNull(manifest.doc().get("apiVersion"), where + ": apiVersion");
      assertNotNull(manifest.name(), where + ": metadata.name");
      assertFalse(map(manifest.doc(), "metadata").containsKey("namespace"),
          where + ": no namespace, the manifests are applied with kubectl -n");
    }
    Set<String> kinds = manifests.stream().map(Manifest::kind).collect(Collectors.toCollection(TreeSet::new));
    assertEquals(new TreeSet<>(List.of("Certificate", "ConfigMap", "Deployment", "Issuer", "NetworkPolicy",
        "PodDisruptionBudget", "Role", "RoleBinding", "Secret", "Service", "ServiceAccount")), kinds);
  }

  @Test
  void containerPortsAreTheNodesPorts() {
    assertEquals(node.getInt("clearinghouse.grpc.port"), containerPort("grpc"), "gRPC");
    assertEquals(node.getInt("pekko.management.http.port"), containerPort("management"), "management HTTP");
    assertEquals(node.getInt("pekko.remote.artery.canonical.port"), containerPort("remoting"), "remoting");
    assertEquals(3, list(container, "ports").size(), "grpc, management and remoting only");
  }

  @Test
  void environmentSelectsTheKubernetesMode() {
    assertEquals("kubernetes.conf", javaOptsProperties.get("config.resource"),
        "JAVA_OPTS must select kubernetes.conf");
    assertEquals("0.0.0.0", node.getString("clearinghouse.grpc.host"));
    assertEquals(POD_IP, node.getString("pekko.management.http.hostname"), "management HTTP on the pod IP");
    assertEquals(POD_IP, node.getString("pekko.remote.artery.canonical.hostname"), "remoting on the pod IP");
    assertFalse(node.getBoolean("clearinghouse.local-cassandra.enabled"));
    assertFalse(node.getBoolean("clearinghouse.persistence.create-schema"),
        "the schema is created once, not by every pod");
    assertFalse(node.getBoolean("clearinghouse.demo.enabled"), "no plain-text demo tokens in a cluster");
    assertFalse(node.getBoolean("clearinghouse.cluster.join-self"));
    assertTrue(node.getBoolean("clearinghouse.cluster.bootstrap"), "Main starts Cluster Bootstrap");
    assertTrue(node.getStringList("pekko.cluster.seed-nodes").isEmpty(), "bootstrap, not seed nodes");
    assertEquals("cluster", node.getString("pekko.actor.provider"));
    assertEquals(List.of(configMapValue("clearing-node", "cassandra-contact-point")),
        node.getStringList("datastax-java-driver.basic.contact-points"));
    assertEquals(configMapValue("clearing-node", "cassandra-local-dc"),
        node.getString("datastax-java-driver.basic.load-balancing-policy.local-datacenter"));
  }

  @Test
  void noHopIsPlaintext() {
    // gRPC and management HTTP: TLS from the certificate cert-manager writes.
    assertTrue(node.getBoolean("clearinghouse.tls.enabled"), "gRPC and management over TLS");
    String tlsSecret = secretMountedFor(node.getString("clearinghouse.tls.cert-file"));
    assertEquals(tlsSecret, secretMountedFor(node.getString("clearinghouse.tls.key-file")));
    assertEquals(tlsSecret, secretMountedFor(node.getString("clearinghouse.tls.ca-file")));
    assertTrue(certificateSecrets().contains(tlsSecret), "a Certificate writes " + tlsSecret);
    // Remoting: mutual TLS with the rotating-keys engine.
    assertEquals("tls-tcp", node.getString("pekko.remote.artery.transport"));
    String engine = "pekko.remote.artery.ssl.rotating-keys-engine.";
    assertTrue(node.getString("pekko.remote.artery.ssl.ssl-engine-provider").endsWith("RotatingKeysSSLEngineProvider"));
    String remotingSecret = secretMountedFor(node.getString(engine + "key-file"));
    for (String file : List.of("cert-file", "ca-cert-file")) {
      assertEquals(remotingSecret, secretMountedFor(node.getString(engine + file)), file);
    }
    Manifest remoting = all("Certificate").stream()
        .filter(c -> remotingSecret.equals(string(map(c.doc(), "spec"), "secretName"))).findFirst()
        .orElseThrow(() -> new AssertionError("no Certificate writes " + remotingSecret));
    assertTrue(list(map(remoting.doc(), "spec"), "usages").containsAll(List.of("server auth", "client auth")),
        "remoting certificates authenticate both sides");
    for (Manifest certificate : all("Certificate")) {
      Map<String, Object> key = map(map(certificate.doc(), "spec"), "privateKey");
      assertEquals(List.of("RSA", "PKCS8"), List.of(key.get("algorithm"), key.get("encoding")),
          certificate.name() + ": the keys the node and the rotating-keys engine read");
    }
    // Cassandra: a role and TLS with hostname validation, the truststore from a mounted Secret.
    assertEquals("PlainTextAuthProvider", node.getString("datastax-java-driver.advanced.auth-provider.class"));
    assertFalse(node.getString("datastax-java-driver.advanced.auth-provider.password").isEmpty());
    assertTrue(node.getBoolean("datastax-java-driver.advanced.ssl-engine-factory.hostname-validation"));
    assertEquals("cassandra-client", secretMountedFor(
        node.getString("datastax-java-driver.advanced.ssl-engine-factory.truststore-path")));
    // The schema step would create the keyspaces with a factor of 3 at least.
    assertTrue(io.clearinghouse.persistence.CassandraSchema.minimumFactor(
        node.getString("clearinghouse.persistence.replication")) >= 3);
    // The probes speak HTTPS to the management port.
    for (String probe : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
      assertEquals("HTTPS", map(map(container, probe), "httpGet").get("scheme"), probe);
    }
  }

  @Test
  void onlyClearingNodesReachRemotingAndManagement() {
    Map<String, Object> spec = map(only("NetworkPolicy").doc(), "spec");
    assertEquals(podLabels().get("app"), map(map(spec, "podSelector"), "matchLabels").get("app"));
    Set<String> restricted = new TreeSet<>();
    Set<String> open = new TreeSet<>();
    Set<String> scraped = new TreeSet<>();
    for (Object rule : list(spec, "ingress")) {
      Map<String, Object> ingress = asMap(rule);
      Set<String> ports = list(ingress, "ports").stream().map(p -> String.valueOf(asMap(p).get("port")))
          .collect(Collectors.toSet());
      if (ingress.containsKey("from")) {
        for (Object from : list(ingress, "from")) {
          Map<String, Object> source = asMap(from);
          if (source.containsKey("namespaceSelector")) {
            // Review of issue 18, finding 1: the one other reader of the management port is
            // Prometheus, and it reaches nothing else.
            assertEquals(Map.of("app.kubernetes.io/name", "prometheus"), map(map(source, "podSelector"), "matchLabels"),
                "only Prometheus from another namespace");
            assertEquals(Set.of("management"), ports, "Prometheus reaches the management port only");
            scraped.addAll(ports);
            continue;
          }
          assertEquals(Map.of("app", podLabels().get("app")), map(map(source, "podSelector"), "matchLabels"),
              "remoting and management only from the clearing nodes");
          restricted.addAll(ports);
        }
      } else {
        open.addAll(ports);
      }
    }
    assertEquals(Set.of("management", "remoting"), restricted);
    assertEquals(Set.of("management"), scraped, "the NetworkPolicy says who may scrape /metrics");
    assertEquals(Set.of("grpc"), open, "only gRPC (TLS and a token on every call) from anywhere");
    // What Prometheus reaches still asks for the operator token (/metrics, and always /shards,
    // /insurance-funds and /cascade).
    assertTrue(node.getBoolean("clearinghouse.management.metrics-token-required"),
        "in a cluster /metrics needs the operator token");
  }

  @Test
  void disruptionsAndPlacementKeepAMajority() {
    Map<String, Object> pdb = map(only("PodDisruptionBudget").doc(), "spec");
    assertEquals(1, integer(pdb, "maxUnavailable"));
    assertEquals(Map.of("app", podLabels().get("app")), map(map(pdb, "selector"), "matchLabels"));
    Set<String> spreadOver = list(podSpec, "topologySpreadConstraints").stream()
        .map(c -> string(asMap(c), "topologyKey")).collect(Collectors.toSet());
    assertEquals(Set.of("kubernetes.io/hostname", "topology.kubernetes.io/zone"), spreadOver);
  }

  @Test
  void probesUseTheManagementHealthPaths() {
    String base = node.getString("pekko.management.http.base-path");
    String prefix = base.isEmpty() ? "/" : "/" + base + "/";
    String readiness = prefix + node.getString("pekko.management.health-checks.readiness-path");
    String liveness = prefix + node.getString("pekko.management.health-checks.liveness-path");
    int management = node.getInt("pekko.management.http.port");

    Map<String, Object> ready = map(map(container, "readinessProbe"), "httpGet");
    assertEquals(readiness, ready.get("path"), "readiness probe path");
    assertEquals(management, resolvePort(ready.get("port")), "readiness probe port");

    Map<String, Object> alive = map(map(container, "livenessProbe"), "httpGet");
    assertEquals(liveness, alive.get("path"), "liveness probe path");
    assertEquals(management, resolvePort(alive.get("port")), "liveness probe port");

    if (container.containsKey("startupProbe")) {
      Map<String, Object> startup = map(map(container, "startupProbe"), "httpGet");
      assertEquals(liveness, startup.get("path"), "startup probe path");
      assertEquals(management, resolvePort(startup.get("port")), "startup probe port");
    }

    long checkTimeout = node.getDuration("pekko.management.health-checks.check-timeout").toSeconds();
    assertTrue(integer(map(container, "readinessProbe"), "timeoutSeconds") > checkTimeout,
        "the readiness probe must wait longer than the health checks' own timeout (" + checkTimeout + " s)");
  }

  @Test
  void servicesSelectThePodsAndTargetTheRightPorts() {
    Map<String, Object> podLabels = podLabels();
    Map<String, Integer> expected = Map.of(
        "grpc", node.getInt("clearinghouse.grpc.port"),
        "management", node.getInt("pekko.management.http.port"));
    Set<String> seen = new TreeSet<>();
    for (Manifest service : all("Service")) {
      Map<String, Object> spec = map(service.doc(), "spec");
      map(spec, "selector").forEach((key, value) ->
          assertEquals(value, podLabels.get(key), service.name() + " selects pods by " + key));
      for (Object entry : list(spec, "ports")) {
        Map<String, Object> port = asMap(entry);
        String name = string(port, "name");
        assertTrue(expected.containsKey(name), service.name() + ": unexpected port " + name);
        int target = resolvePort(port.getOrDefault("targetPort", port.get("port")));
        assertEquals(expected.get(name), target, service.name() + " port " + name + " targets the node's " + name);
        assertEquals(expected.get(name), integer(port, "port"), service.name() + " port " + name);
        seen.add(name);
      }
    }
    assertEquals(expected.keySet(), seen, "a Service for gRPC and one for management");
  }

  @Test
  void bootstrapDiscoversThePodsOfThisDeployment() {
    Config discovery = node.getConfig("pekko.management.cluster.bootstrap.contact-point-discovery");
    assertEquals("kubernetes-api", discovery.getString("discovery-method"));
    String effectiveName = discovery.getString("effective-name").equals("<effective-name>")
        ? discovery.getString("service-name")
        : discovery.getString("effective-name");
    String selector = String.format(node.getString("pekko.discovery.kubernetes-api.pod-label-selector"),
        effectiveName);
    Map<String, Object> podLabels = podLabels();
    Map<String, Object> matchLabels = map(map(map(deployment, "spec"), "selector"), "matchLabels");
    for (String term : selector.split(",")) {
      String[] keyValue = term.trim().split("=", 2);
      assertEquals(2, keyValue.length, "an equality selector: " + selector);
      assertEquals(keyValue[1], podLabels.get(keyValue[0]), "pod template label for selector " + selector);
      assertEquals(keyValue[1], matchLabels.get(keyValue[0]), "deployment selector for " + selector);
    }
    String portName = discovery.getString("port-name");
    assertEquals(node.getInt("pekko.management.http.port"), containerPort(portName),
        "bootstrap probes the container port named " + portName + ", which must be management HTTP");
    assertTrue(discovery.getInt("required-contact-point-nr") <= integer(map(deployment, "spec"), "replicas"),
        "required-contact-point-nr above the replicas: a new cluster would never form");
    assertTrue(integer(map(deployment, "spec"), "replicas") % 2 == 1, "an odd number of nodes for keep-majority");
    assertEquals("keep-majority", node.getString("pekko.cluster.split-brain-resolver.active-strategy"));
  }

  @Test
  void rbacLetsThePodsServiceAccountReadPods() {
    String serviceAccount = string(podSpec, "serviceAccountName");
    assertEquals(serviceAccount, only("ServiceAccount").name());
    Manifest binding = only("RoleBinding");
    Map<String, Object> roleRef = map(binding.doc(), "roleRef");
    assertEquals("Role", roleRef.get("kind"));
    assertEquals(only("Role").name(), roleRef.get("name"));
    assertTrue(list(binding.doc(), "subjects").stream().map(KubernetesManifestsTest::asMap)
            .anyMatch(s -> "ServiceAccount".equals(s.get("kind")) && serviceAccount.equals(s.get("name"))),
        "the RoleBinding binds the pods' service account " + serviceAccount);
    boolean grants = list(only("Role").doc(), "rules").stream().map(KubernetesManifestsTest::asMap)
        .anyMatch(rule -> list(rule, "apiGroups").contains("")
            && list(rule, "resources").contains("pods")
            && list(rule, "verbs").containsAll(List.of("get", "watch", "list")));
    assertTrue(grants, "the Role grants get, watch and list on pods of the core API group");
  }

  @Test
  void containerDoesNotRunAsRoot() {
    Map<String, Object> pod = asMap(podSpec.getOrDefault("securityContext", Map.of()));
    Map<String, Object> own = asMap(container.getOrDefault("securityContext", Map.of()));
    Object runAsNonRoot = own.containsKey("runAsNonRoot") ? own.get("runAsNonRoot") : pod.get("runAsNonRoot");
    Object runAsUser = own.containsKey("runAsUser") ? own.get("runAsUser") : pod.get("runAsUser");
    assertEquals(Boolean.TRUE, runAsNonRoot, "runAsNonRoot");
    assertTrue(runAsUser instanceof Integer, "runAsUser must be a number, was " + runAsUser);
    assertNotEquals(0, runAsUser, "runAsUser");
    assertNotEquals(Boolean.TRUE, own.get("privileged"));
    assertEquals(Boolean.FALSE, own.get("allowPrivilegeEscalation"));
  }

  @Test
  void containerImageRunsAsNonRootAndExposesTheNodesPorts() throws IOException {
    List<String> containerfile = Files.readAllLines(repoRoot.resolve("deploy/container/Containerfile"));
    List<String> users = instructions(containerfile, "USER");
    assertFalse(users.isEmpty(), "the Containerfile sets a USER");
    String user = users.get(users.size() - 1).split(":")[0];
    assertTrue(user.matches("[0-9]+") && !user.equals("0"), "the image runs as a numeric non-root UID, was " + user);
    Set<Integer> exposed = instructions(containerfile, "EXPOSE").stream()
        .flatMap(line -> Arrays.stream(line.split("\\s+")))
        .map(port -> Integer.parseInt(port.replace("/tcp", "")))
        .collect(Collectors.toCollection(TreeSet::new));
    assertEquals(new TreeSet<>(List.of(node.getInt("clearinghouse.grpc.port"),
        node.getInt("pekko.management.http.port"), node.getInt("pekko.remote.artery.canonical.port"))), exposed,
        "the Containerfile exposes the node's ports");
  }

  @Test
  void terminationGraceCoversCoordinatedShutdown() {
    Config shutdown = node.getConfig("pekko.coordinated-shutdown");
    long defaultTimeout = shutdown.getDuration("default-phase-timeout").toSeconds();
    Config phases = shutdown.getConfig("phases");
    long total = phases.root().keySet().stream()
        .mapToLong(phase -> phases.getConfig("\"" + phase + "\"").hasPath("timeout")
            ? phases.getDuration("\"" + phase + "\".timeout").toSeconds()
            : defaultTimeout)
        .sum();
    assertTrue(integer(podSpec, "terminationGracePeriodSeconds") >= total,
        "terminationGracePeriodSeconds below the coordinated shutdown phases' " + total + " s");
    assertTrue(node.getBoolean("pekko.coordinated-shutdown.run-by-jvm-shutdown-hook"), "SIGTERM runs it");
  }

  @Test
  void tokensSecretIsMountedWhereKubernetesConfIncludesIt() throws IOException {
    String kubernetesConf;
    try (var in = Objects.requireNonNull(getClass().getClassLoader().getResourceAsStream("kubernetes.conf"))) {
      kubernetesConf = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    Matcher include = Pattern.compile("(?m)^\\s*include\\s+(?:required\\()?file\\(\"([^\"]+)\"\\)")
        .matcher(kubernetesConf);
    assertTrue(include.find(), "kubernetes.conf includes the tokens file");
    Path tokensFile = Path.of(include.group(1));

    Map<String, Object> mount = list(container, "volumeMounts").stream().map(KubernetesManifestsTest::asMap)
        .filter(m -> tokensFile.getParent().equals(Path.of(string(m, "mountPath"))))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no volume mounted at " + tokensFile.getParent()));
    Map<String, Object> volume = list(podSpec, "volumes").stream().map(KubernetesManifestsTest::asMap)
        .filter(v -> mount.get("name").equals(v.get("name")))
        .findFirst()
        .orElseThrow();
    Map<String, Object> secretVolume = map(volume, "secret");
    assertNotEquals(Boolean.TRUE, secretVolume.get("optional"), "a missing Secret must stop the pod");
    String key = tokensFile.getFileName().toString();
    if (secretVolume.containsKey("items")) {
      key = list(secretVolume, "items").stream().map(KubernetesManifestsTest::asMap)
          .filter(item -> tokensFile.getFileName().toString().equals(item.get("path")))
          .map(item -> string(item, "key"))
          .findFirst()
          .orElseThrow(() -> new AssertionError("no Secret item is mounted as " + tokensFile));
    }

    Manifest secret = all("Secret").stream().filter(m -> m.name().equals(string(secretVolume, "secretName")))
        .findFirst().orElseThrow(() -> new AssertionError("no example Secret " + string(secretVolume, "secretName")));
    String tokensConf = string(map(secret.doc(), "stringData"), key);
    Config tokens = ConfigFactory.parseString(tokensConf);
    assertFalse(tokens.getConfigList("clearinghouse.auth.tokens").isEmpty());
    for (Config token : tokens.getConfigList("clearinghouse.auth.tokens")) {
      for (String field : List.of("name", "role", "sha256")) {
        assertTrue(token.hasPath(field), "example token without " + field);
      }
      assertFalse(token.getString("sha256").matches("[0-9a-fA-F]{64}"),
          "the example must hold placeholders, never a usable hash");
      String role = token.getString("role");
      assertTrue(java.util.Arrays.stream(io.clearinghouse.api.Role.values())
          .anyMatch(r -> r.name().equalsIgnoreCase(role)), "the example's role '" + role + "' is a role the node knows");
    }
    // Prometheus scrapes with a read-only monitor token of its own, never the operator's.
    assertTrue(tokens.getConfigList("clearinghouse.auth.tokens").stream()
        .anyMatch(t -> t.getString("name").equals("prometheus") && t.getString("role").equals("monitor")),
        "the example gives Prometheus a monitor token");
  }

  @Test
  void everyVariableTheDeploymentSetsIsReadAndEveryOneKubernetesConfReadsIsSet() throws IOException {
    String loaded = configurationText();
    Set<String> set = new TreeSet<>();
    for (Object entry : list(container, "env")) {
      String name = string(asMap(entry), "name");
      set.add(name);
      // JAVA_OPTS is read by the image's entrypoint (containerImageRunsAsNonRootAndExposesTheNodesPorts).
      if (!name.equals("JAVA_OPTS")) {
        assertTrue(loaded.contains("${?" + name + "}"), name + " is set in deployment.yaml but no configuration file"
            + " the node loads reads it");
      }
    }
    Matcher read = Pattern.compile("\\$\\{\\?([A-Z0-9_]+)\\}").matcher(resourceText("kubernetes.conf"));
    while (read.find()) {
      assertTrue(set.contains(read.group(1)), "kubernetes.conf reads " + read.group(1) + " but deployment.yaml never"
          + " sets it");
    }
  }

  /**
   * The checks Main runs before it starts anything (and the ones of init that only read
   * configuration) accept the configuration the Deployment gives the node, once the operator has
   * put a token in the tokens Secret and cert-manager has written the certificate files.
   */
  @Test
  void theNodesStartChecksAcceptTheDeploymentsConfiguration() {
    io.clearinghouse.it.TestCertificates.Authority authority = io.clearinghouse.it.TestCertificates
        .authority("manifests-ca");
    Path files = authority.issue("clearing-node");
    String engine = "pekko.remote.artery.ssl.rotating-keys-engine.";
    Config filledIn = ConfigFactory.parseMap(Map.of(
            "clearinghouse.tls.cert-file", files.resolve("tls.crt").toString(),
            "clearinghouse.tls.key-file", files.resolve("tls.key").toString(),
            "clearinghouse.tls.ca-file", files.resolve("ca.crt").toString(),
            engine + "cert-file", files.resolve("tls.crt").toString(),
            engine + "key-file", files.resolve("tls.key").toString(),
            engine + "ca-cert-file", files.resolve("ca.crt").toString()), "the mounted Secrets")
        .withFallback(ConfigFactory.parseString("clearinghouse.auth.tokens = [{ name = ops, role = operator, sha256 = \""
            + io.clearinghouse.api.Authenticator.sha256Hex("a-token") + "\" }]"))
        .withFallback(node);
    io.clearinghouse.NodeSettings settings = io.clearinghouse.NodeSettings.fromConfig(filledIn);
    io.clearinghouse.funding.FundingSettings.fromConfig(filledIn, settings.instruments());
    io.clearinghouse.api.GrpcGuard.Settings.fromConfig(filledIn);
    io.clearinghouse.api.Authenticator.fromConfig(filledIn);
    io.clearinghouse.api.TransportSecurity.fromConfig(filledIn);
    io.clearinghouse.api.Quotas.fromConfig(filledIn);
    assertTrue(filledIn.getDuration("clearinghouse.account.fee-sweep-interval").toMillis() > 0);
  }

  /** deploy/README.md's table of hops names each port the node listens on or connects to, and how it is secured. */
  @Test
  void theDeployReadmeListsEveryHopAndEveryManifest() throws IOException {
    String readme = Files.readString(repoRoot.resolve("deploy/README.md"));
    List<String[]> hops = tableAfter(readme, "| hop | how it is secured |");
    String contactPoint = node.getStringList("datastax-java-driver.basic.contact-points").get(0);
    Map<String, Integer> ports = new LinkedHashMap<>();
    ports.put("gRPC", node.getInt("clearinghouse.grpc.port"));
    ports.put("management", node.getInt("pekko.management.http.port"));
    ports.put("remoting", node.getInt("pekko.remote.artery.canonical.port"));
    ports.put("Cassandra", Integer.parseInt(contactPoint.substring(contactPoint.lastIndexOf(':') + 1)));
    ports.forEach((hop, port) -> {
      String[] row = hops.stream().filter(r -> r[0].contains(hop) && r[0].contains("(" + port + ")")).findFirst()
          .orElseThrow(() -> new AssertionError("deploy/README.md lists no hop " + hop + " (" + port + ")"));
      assertTrue(row[1].contains("TLS") || row[1].contains("HTTPS"), hop + ": how is it secured? " + row[1]);
    });
    // Discovery asks the API server over HTTPS with the service account's token and CA, mounted by Kubernetes.
    String[] api = hops.stream().filter(r -> r[0].contains("Kubernetes API")).findFirst()
        .orElseThrow(() -> new AssertionError("deploy/README.md lists no hop to the Kubernetes API"));
    assertTrue(api[1].contains("HTTPS"), api[1]);
    for (String file : List.of("api-ca-path", "api-token-path")) {
      assertTrue(node.getString("pekko.discovery.kubernetes-api." + file)
          .startsWith("/var/run/secrets/kubernetes.io/serviceaccount/"), file);
    }
    assertNotEquals(Boolean.FALSE, podSpec.get("automountServiceAccountToken"), "discovery needs the token mounted");
    Set<String> listed = tableAfter(readme, "| file | what |").stream().map(r -> r[0].replace("`", "").trim())
        .collect(Collectors.toCollection(TreeSet::new));
    Set<String> files = manifests.stream().map(m -> m.file().getFileName().toString())
        .collect(Collectors.toCollection(TreeSet::new));
    assertEquals(files, listed, "deploy/README.md's table of the files in deploy/kubernetes");
  }

  /** The rows (cells trimmed) of the Markdown table whose header line is {@code header}. */
  private static List<String[]> tableAfter(String markdown, String header) {
    int start = markdown.indexOf(header);
    assertTrue(start >= 0, "no table " + header);
    List<String[]> rows = new ArrayList<>();
    String[] lines = markdown.substring(start).split("\n");
    for (int i = 2; i < lines.length && lines[i].startsWith("|"); i++) {
      String[] cells = lines[i].substring(1).split("(?<!\\\\)\\|");
      rows.add(Arrays.stream(cells).map(String::trim).toArray(String[]::new));
    }
    return rows;
  }

  /** The configuration files a node loads: every reference.conf on the classpath and the node's own .conf files. */
  private static String configurationText() throws IOException {
    StringBuilder text = new StringBuilder();
    var references = KubernetesManifestsTest.class.getClassLoader().getResources("reference.conf");
    while (references.hasMoreElements()) {
      try (var in = references.nextElement().openStream()) {
        text.append(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)).append('\n');
      }
    }
    try (Stream<Path> own = Files.list(repoRoot.resolve("clearing-node/src/main/resources"))) {
      for (Path conf : own.filter(f -> f.toString().endsWith(".conf")).toList()) {
        text.append(Files.readString(conf)).append('\n');
      }
    }
    return text.toString();
  }

  private static String resourceText(String name) throws IOException {
    try (var in = Objects.requireNonNull(KubernetesManifestsTest.class.getClassLoader().getResourceAsStream(name))) {
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  // --- the node's configuration as the Deployment starts it ----------------------------------

  /**
   * What ConfigFactory.load() gives inside the pod: JAVA_OPTS system properties over the
   * config.resource file over reference.conf, with reference.conf resolved on its own first (as
   * ConfigFactory does), and the environment being the container's, not this JVM's.
   */
  private static Config nodeConfig() {
    Config env = ConfigFactory.parseMap(containerEnvironment(), "deployment.yaml env");
    ConfigResolveOptions withoutThisJvmsEnv = ConfigResolveOptions.defaults().setUseSystemEnvironment(false);
    Config reference = ConfigFactory.parseResources("reference.conf")
        .withFallback(env)
        .resolve(withoutThisJvmsEnv);
    String resource = javaOptsProperties.getOrDefault("config.resource", "application.conf");
    Config application = ConfigFactory.parseResources(resource, ConfigParseOptions.defaults().setAllowMissing(false));
    Map<String, String> overrides = new HashMap<>(javaOptsProperties);
    overrides.keySet().removeIf(key -> key.startsWith("config."));
    return ConfigFactory.parseMap(overrides, "JAVA_OPTS")
        .withFallback(application)
        .withFallback(reference)
        .withFallback(env)
        .resolve(withoutThisJvmsEnv);
  }

  /** The container's environment: literal values, ConfigMap references, the pod IP. */
  private static Map<String, String> containerEnvironment() {
    Map<String, String> env = new LinkedHashMap<>();
    for (Object entry : list(container, "env")) {
      Map<String, Object> variable = asMap(entry);
      String name = string(variable, "name");
      if (variable.containsKey("value")) {
        env.put(name, String.valueOf(variable.get("value")));
        continue;
      }
      Map<String, Object> from = map(variable, "valueFrom");
      if (from.containsKey("fieldRef")) {
        String field = string(map(from, "fieldRef"), "fieldPath");
        assertEquals("status.podIP", field, name + ": the only field the node needs is the pod IP");
        env.put(name, POD_IP);
      } else if (from.containsKey("configMapKeyRef")) {
        Map<String, Object> ref = map(from, "configMapKeyRef");
        env.put(name, configMapValue(string(ref, "name"), string(ref, "key")));
      } else if (from.containsKey("secretKeyRef")) {
        Map<String, Object> ref = map(from, "secretKeyRef");
        env.put(name, secretValue(string(ref, "name"), string(ref, "key")));
      } else {
        fail(name + ": unexpected valueFrom " + from.keySet());
      }
    }
    return env;
  }

  private static Map<String, String> literalEnv() {
    Map<String, String> env = new HashMap<>();
    for (Object entry : list(container, "env")) {
      Map<String, Object> variable = asMap(entry);
      if (variable.containsKey("value")) {
        env.put(string(variable, "name"), String.valueOf(variable.get("value")));
      }
    }
    return env;
  }

  /** The -Dkey=value options of a JAVA_OPTS string. */
  private static Map<String, String> systemProperties(String javaOpts) {
    Map<String, String> properties = new LinkedHashMap<>();
    for (String option : javaOpts.trim().split("\\s+")) {
      if (option.startsWith("-D")) {
        String[] keyValue = option.substring(2).split("=", 2);
        properties.put(keyValue[0], keyValue.length == 2 ? keyValue[1] : "");
      }
    }
    return properties;
  }

  private static String configMapValue(String name, String key) {
    Manifest configMap = all("ConfigMap").stream()
        .filter(m -> name.equals(m.name()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no ConfigMap " + name));
    String value = (String) map(configMap.doc(), "data").get(key);
    assertNotNull(value, "ConfigMap " + name + " has no key " + key);
    return value;
  }

  /** A key of an example Secret (secret-example.yaml): the real one must have the same keys. */
  private static String secretValue(String name, String key) {
    Manifest secret = all("Secret").stream().filter(m -> name.equals(m.name())).findFirst()
        .orElseThrow(() -> new AssertionError("no example Secret " + name));
    String value = (String) map(secret.doc(), "stringData").get(key);
    assertNotNull(value, "Secret " + name + " has no key " + key);
    return value;
  }

  /** The Secret mounted (read-only) at the directory of {@code file}, by the volume's secretName. */
  private static String secretMountedFor(String file) {
    Path dir = Path.of(file).getParent();
    Map<String, Object> mount = list(container, "volumeMounts").stream().map(KubernetesManifestsTest::asMap)
        .filter(m -> dir.equals(Path.of(string(m, "mountPath")))).findFirst()
        .orElseThrow(() -> new AssertionError("no volume mounted at " + dir + " (for " + file + ")"));
    assertEquals(Boolean.TRUE, mount.get("readOnly"), dir + " is mounted read-only");
    Map<String, Object> volume = list(podSpec, "volumes").stream().map(KubernetesManifestsTest::asMap)
        .filter(v -> mount.get("name").equals(v.get("name"))).findFirst().orElseThrow();
    return string(map(volume, "secret"), "secretName");
  }

  private static Set<String> certificateSecrets() {
    return all("Certificate").stream().map(c -> string(map(c.doc(), "spec"), "secretName"))
        .collect(Collectors.toCollection(TreeSet::new));
  }

  // --- manifests ------------------------------------------------------------------------------

  private static int containerPort(String name) {
    return list(container, "ports").stream().map(KubernetesManifestsTest::asMap)
        .filter(port -> name.equals(port.get("name")))
        .map(port -> integer(port, "containerPort"))
        .findFirst()
        .orElseThrow(() -> new AssertionError("the container has no port named " + name));
  }

  /** A port given by number or by the name of a container port. */
  private static int resolvePort(Object port) {
    return port instanceof Integer number ? number : containerPort(String.valueOf(port));
  }

  private static Map<String, Object> podLabels() {
    return map(map(map(map(deployment, "spec"), "template"), "metadata"), "labels");
  }

  private static Manifest only(String kind) {
    List<Manifest> found = all(kind);
    assertEquals(1, found.size(), "exactly one " + kind);
    return found.get(0);
  }

  private static List<Manifest> all(String kind) {
    return manifests.stream().filter(m -> kind.equals(m.kind())).toList();
  }

  private static List<Manifest> readManifests(Path dir) throws IOException {
    Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
    List<Path> files;
    try (Stream<Path> listing = Files.list(dir)) {
      files = listing.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
    }
    assertFalse(files.isEmpty(), "no YAML files in " + dir);
    List<Manifest> result = new ArrayList<>();
    for (Path file : files) {
      int documents = 0;
      try (Reader reader = Files.newBufferedReader(file)) {
        for (Object doc : yaml.loadAll(reader)) {
          if (doc == null) {
            continue;
          }
          assertTrue(doc instanceof Map, file + ": every document is a mapping");
          result.add(new Manifest(file, asMap(doc)));
          documents++;
        }
      }
      assertTrue(documents > 0, file + " holds no document");
    }
    return result;
  }

  private static List<String> instructions(List<String> lines, String instruction) {
    return lines.stream()
        .map(String::trim)
        .filter(line -> line.startsWith(instruction + " "))
        .map(line -> line.substring(instruction.length()).trim())
        .toList();
  }

  private static Path findRepoRoot() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isDirectory(dir.resolve("deploy/kubernetes"))) {
        return dir;
      }
    }
    throw new AssertionError("deploy/kubernetes not found above " + Path.of("").toAbsolutePath());
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object value) {
    assertTrue(value instanceof Map, "expected a mapping, was " + value);
    return (Map<String, Object>) value;
  }

  private static Map<String, Object> map(Map<String, Object> parent, String key) {
    Object value = parent.get(key);
    assertNotNull(value, "missing " + key + " in " + parent.keySet());
    return asMap(value);
  }

  private static List<Object> list(Map<String, Object> parent, String key) {
    Object value = parent.get(key);
    assertTrue(value instanceof List, "expected a list at " + key + ", was " + value);
    @SuppressWarnings("unchecked")
    List<Object> items = (List<Object>) value;
    return items;
  }

  private static String string(Map<String, Object> parent, String key) {
    Object value = parent.get(key);
    assertTrue(value instanceof String, "expected a string at " + key + ", was " + value);
    return (String) value;
  }

  private static int integer(Map<String, Object> parent, String key) {
    Object value = parent.get(key);
    assertTrue(value instanceof Integer, "expected a number at " + key + ", was " + value);
    return (Integer) value;
  }
}
