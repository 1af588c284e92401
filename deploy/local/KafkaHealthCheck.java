// Kafka readiness check used by start.sh (compiled by install.sh into
// .deps/kafka/healthcheck/; also runs as a single-file source program:
//   java -cp '.deps/kafka/libs/*' deploy/local/KafkaHealthCheck.java 127.0.0.1:9092 60
// ). Retries until the timeout (seconds): fetches metadata (topic list),
// creates topic _healthcheck if missing, produces one unique message and
// consumes it back. Exit code 0 = broker usable (prints nothing then).
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class KafkaHealthCheck {
    static final String TOPIC = "_healthcheck";

    public static void main(String[] args) throws Exception {
        String bootstrap = args.length > 0 ? args[0] : "127.0.0.1:9092";
        long timeoutMs = (args.length > 1 ? Long.parseLong(args[1]) : 60) * 1000;
        long deadline = System.currentTimeMillis() + timeoutMs;
        Exception last = null;
        while (System.currentTimeMillis() < deadline) {
            try {
                check(bootstrap);
                return;
            } catch (Exception e) {
                last = e;
                Thread.sleep(1000);
            }
        }
        System.err.println("[infra] kafka: not ready after " + timeoutMs / 1000 + " s: " + last);
        System.exit(1);
    }

    static Properties props(String bootstrap) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("request.timeout.ms", "5000");
        p.put("default.api.timeout.ms", "10000");
        return p;
    }

    static void check(String bootstrap) throws Exception {
        try (Admin admin = Admin.create(props(bootstrap))) {
            if (!admin.listTopics().names().get(10, TimeUnit.SECONDS).contains(TOPIC)) {
                try {
                    // replication: the broker's default.replication.factor (1 on the single
                    // node; 3 on the KAFKA_BROKERS=3 cluster, whose min.insync.replicas is 2)
                    admin.createTopics(List.of(new NewTopic(TOPIC, Optional.of(1), Optional.empty())))
                        .all().get(10, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) throw e;
                }
            }
        }

        String token = "healthcheck-" + UUID.randomUUID();
        Properties pp = props(bootstrap);
        pp.put("acks", "all");
        pp.put("max.block.ms", "10000");
        pp.put("delivery.timeout.ms", "15000");
        pp.put("key.serializer", StringSerializer.class.getName());
        pp.put("value.serializer", StringSerializer.class.getName());
        RecordMetadata md;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
            md = producer.send(new ProducerRecord<>(TOPIC, 0, null, token)).get(15, TimeUnit.SECONDS);
        }

        Properties cp = props(bootstrap);
        cp.put("enable.auto.commit", "false");
        cp.put("key.deserializer", StringDeserializer.class.getName());
        cp.put("value.deserializer", StringDeserializer.class.getName());
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp)) {
            TopicPartition tp = new TopicPartition(TOPIC, md.partition());
            consumer.assign(List.of(tp));
            consumer.seek(tp, md.offset());
            long end = System.currentTimeMillis() + 15000;
            while (System.currentTimeMillis() < end) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    if (token.equals(r.value())) return;
                }
            }
        }
        throw new IllegalStateException("produced message not consumed back");
    }
}
