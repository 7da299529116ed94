package io.servicepath.e2e.real;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.servicepath.e2e.SteadyLoad;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * An ordinary Deployment and Service on the real cluster: the Service labelled for ServicePath
 * and of load balancer class servicepath.io/lb gets its LB IP from the controller, its endpoints
 * from kube-controller-manager's EndpointSlices of kubelet-run pods, and a rolling update under
 * steady load through that IP loses no request; its conditions say it is programmed.
 */
class ServiceRealIT extends RealClusterScenarios {

  @Test
  void aLabelledLoadBalancerServiceThroughARollingUpdate() throws InterruptedException {
    cluster.apply(nginxDeployment("plain", 2, null));
    rollout("deployment", "plain");
    cluster.apply("""
        apiVersion: v1
        kind: Service
        metadata:
          name: plain
          namespace: %s
          labels: {service.kubernetes.io/service-proxy-name: servicepath}
        spec:
          type: LoadBalancer
          loadBalancerClass: servicepath.io/lb
          selector: {app: plain}
          ports:
            - {name: http, port: 80, targetPort: 80}
            - {name: https, port: 443, targetPort: 443}
        """.formatted(ns));
    Service service = await("the Service's ingress IP and Programmed condition", Duration.ofSeconds(90), () -> {
      Service s = service("plain");
      return s != null && ingressIp(s).isPresent() && condition(s, "servicepath.io/Programmed")
          .filter(c -> "True".equals(c.getStatus())).isPresent() ? s : null;
    });
    String lb = ingressIp(service).orElseThrow();
    assertThat(lb).startsWith("203.0.113.");
    assertThat(service.getStatus().getLoadBalancer().getIngress().get(0).getIpMode()).isEqualTo("VIP");
    await("the LB IP answers", Duration.ofSeconds(30), () -> "301".equals(cluster.httpCode(CLIENT, "http://" + lb + "/")));
    var before = pods("plain");

    try (SteadyLoad load = steadyLoad(CLIENT, "http://" + lb + "/", "301")) {
      await("some requests before the update", Duration.ofSeconds(30), () -> load.requests() > 10);
      RealCluster.Result restart = cluster.kubectl("-n", ns, "rollout", "restart", "deployment/plain");
      assertThat(restart.ok()).as("kubectl rollout restart: %s", restart).isTrue();
      rollout("deployment", "plain");
      await("two new pods", Duration.ofSeconds(60), () -> {
        var now = pods("plain");
        return now.size() == 2 && now.stream().noneMatch(before::contains);
      });
      sleep(Duration.ofSeconds(3));
      load.close();
      System.err.printf("[service rolling update] %d requests, %d failed%n", load.requests(), load.failures().size());
      assertThat(load.requests()).as("requests").isGreaterThan(20);
      assertThat(load.failures()).as("failed requests of %d", load.requests()).isEmpty();
    }
    assertThat(condition(service("plain"), "servicepath.io/LoadBalancerAllocated").map(Condition::getStatus))
        .contains("True");
  }

  private Service service(String name) {
    RealCluster.Result r = cluster.kubectl("-n", ns, "get", "service", name, "-o", "json", "--ignore-not-found");
    assertThat(r.ok()).as("kubectl get service: %s", r).isTrue();
    return r.stdout().isBlank() ? null : Serialization.unmarshal(r.stdout(), Service.class);
  }

  private static Optional<String> ingressIp(Service s) {
    return Optional.ofNullable(s.getStatus()).map(st -> st.getLoadBalancer())
        .map(lb -> lb.getIngress()).filter(l -> !l.isEmpty()).map(l -> l.get(0).getIp());
  }

  private static Optional<Condition> condition(Service s, String type) {
    List<Condition> conditions = s.getStatus() == null ? null : s.getStatus().getConditions();
    return conditions == null ? Optional.empty() : conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }
}
