//! What storage reports for `/metrics`: the handles the write pipeline records into, which the
//! service registers beside its own. Each clone shares its counts, so the writer's threads and
//! the registry see the same numbers; a default set that nobody registers costs a few atomics.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

#[derive(Clone, Debug)]
pub struct StorageMetrics {
    /// Writes committed per transaction (group commit).
    pub batch_size: Histogram,
    /// Writes waiting for the writer when a batch was taken.
    pub queue_depth: Gauge,
    /// One WAL fsync, which every batch committed meanwhile waits for.
    pub fsync_seconds: Histogram,
    /// One background checkpoint round.
    pub checkpoint_seconds: Histogram,
    /// Held deliveries dropped because the held table passed its bounds.
    pub held_dropped: Counter,
    /// Per projection: how long its oldest event waited since it was stored.
    pub projection_lag_seconds: Histogram,
    /// Events stored but not yet projected, after the last projection.
    pub projection_pending: Gauge,
}

impl Default for StorageMetrics {
    fn default() -> Self {
        Self {
            // 1, 2, 4 … 1024 writes.
            batch_size: Histogram::new(exponential_buckets(1.0, 2.0, 11)),
            queue_depth: Gauge::default(),
            // 50 µs … ~1.6 s.
            fsync_seconds: Histogram::new(exponential_buckets(0.000_05, 2.0, 16)),
            checkpoint_seconds: Histogram::new(exponential_buckets(0.000_05, 2.0, 16)),
            held_dropped: Counter::default(),
            // Fine around the interval (200 ms) and the lag targets (250 ms, 1 s).
            projection_lag_seconds: Histogram::new([
                0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.225, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0,
                10.0, 30.0, 60.0,
            ]),
            projection_pending: Gauge::default(),
        }
    }
}

impl StorageMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "smartlead_hub_writer_batch_size",
            "Writes committed in one transaction",
            self.batch_size.clone(),
        );
        registry.register(
            "smartlead_hub_writer_queue_depth",
            "Writes waiting for the writer when it took its last batch",
            self.queue_depth.clone(),
        );
        registry.register_with_unit(
            "smartlead_hub_wal_fsync",
            "Duration of one WAL fsync (every batch committed meanwhile waits for it)",
            Unit::Seconds,
            self.fsync_seconds.clone(),
        );
        registry.register_with_unit(
            "smartlead_hub_checkpoint",
            "Duration of one background checkpoint round",
            Unit::Seconds,
            self.checkpoint_seconds.clone(),
        );
        registry.register_with_unit(
            "smartlead_hub_projection_lag",
            "Per projection, how long its oldest event had been stored: how far the analytics and the leads' activity trail the events",
            Unit::Seconds,
            self.projection_lag_seconds.clone(),
        );
        registry.register(
            "smartlead_hub_projection_pending_events",
            "Events stored but not yet in the analytics, after the last projection",
            self.projection_pending.clone(),
        );
        registry.register(
            "smartlead_hub_held_dropped",
            "Held deliveries dropped because the held table passed its bounds",
            self.held_dropped.clone(),
        );
    }
}
