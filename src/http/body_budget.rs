//! A bound on the webhook bytes held in memory at once, across every connection. Without it,
//! 200 connections each declaring 4 MiB and stalling held ~900 MB. Bytes are counted as they
//! arrive (nothing is reserved for a declared length), and a body that would take the total
//! past the budget is refused with 503 `overloaded` and `Retry-After`: a real sender retries.
//!
//! Smartlead's deliveries are small (a few KiB; category updates with a whole thread, tens of
//! KiB). So that whoever knows an org id cannot crowd them out by stalling large bodies, the
//! bytes past a body's first [`SMALL_BODY`] may fill only three quarters of the budget: the
//! last quarter is kept for small bodies.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A body's first bytes, which may use the whole budget.
pub const SMALL_BODY: usize = 64 * 1024;

#[derive(Clone, Debug)]
pub struct BodyBudget {
    held: Arc<AtomicUsize>,
    limit: usize,
}

/// The budget is spent: a new body would not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted;

impl BodyBudget {
    pub fn new(limit: usize) -> Self {
        Self {
            held: Arc::new(AtomicUsize::new(0)),
            limit,
        }
    }

    /// True when nothing more fits, so a new delivery is refused before its org is looked up
    /// (the same answer whether the org exists or not).
    pub fn is_spent(&self) -> bool {
        self.held.load(Ordering::Relaxed) >= self.limit
    }

    /// Bytes held now, for tests and logs.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    /// An empty share of the budget for one body; it grows with each chunk and gives everything
    /// back when dropped.
    pub fn share(&self) -> BodyShare {
        BodyShare {
            budget: self.clone(),
            bytes: 0,
        }
    }
}

#[derive(Debug)]
pub struct BodyShare {
    budget: BodyBudget,
    bytes: usize,
}

impl BodyShare {
    /// Counts `bytes` more, or refuses them (counting nothing) when they do not fit.
    pub fn grow(&mut self, bytes: usize) -> Result<(), Exhausted> {
        let limit = match self.bytes + bytes > SMALL_BODY {
            true => self.budget.limit / 4 * 3,
            false => self.budget.limit,
        };
        let held = &self.budget.held;
        let mut current = held.load(Ordering::Relaxed);
        loop {
            let next = current.checked_add(bytes).ok_or(Exhausted)?;
            if next > limit {
                return Err(Exhausted);
            }
            match held.compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
        self.bytes += bytes;
        Ok(())
    }
}

impl Drop for BodyShare {
    fn drop(&mut self) {
        self.budget.held.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIB: usize = 1024;

    #[test]
    fn shares_count_against_one_budget_and_give_it_back_when_dropped() {
        let budget = BodyBudget::new(100 * KIB);
        let mut first = budget.share();
        first.grow(60 * KIB).unwrap();
        let mut second = budget.share();
        assert_eq!(second.grow(50 * KIB), Err(Exhausted));
        second.grow(40 * KIB).unwrap();
        assert!(budget.is_spent());
        drop(first);
        assert_eq!(budget.held(), 40 * KIB);
        second.grow(20 * KIB).unwrap();
        drop(second);
        assert_eq!(budget.held(), 0);
    }

    #[test]
    fn large_bodies_leave_the_last_quarter_to_small_ones() {
        let budget = BodyBudget::new(1024 * KIB);
        let mut large = budget.share();
        for _ in 0..12 {
            large.grow(64 * KIB).unwrap();
        }
        assert_eq!(large.grow(64 * KIB), Err(Exhausted), "past three quarters");
        let small: Vec<BodyShare> = (0..4)
            .map(|_| {
                let mut share = budget.share();
                share.grow(64 * KIB).unwrap();
                share
            })
            .collect();
        assert!(budget.is_spent());
        assert_eq!(budget.share().grow(1), Err(Exhausted));
        drop(small);
    }
}
