//! Each distinct trigger spec once, for every job that uses it.
//!
//! Jobs on the same schedule are common ("every hour", "daily at 02:00"),
//! and a spec is a ~60-byte JSON text plus 24 bytes of handle per job. A
//! job keeps a 4-byte number into this table instead; the table counts the
//! jobs using each spec and frees it with the last.

use std::collections::HashMap;

use chime_core::trigger::TriggerSpec;

use crate::slots::SlotsFull;

#[derive(Debug, Default)]
pub(crate) struct Specs {
    /// By number: the spec and how many jobs use it.
    specs: Vec<Option<(TriggerSpec, usize)>>,
    /// Numbers freed by a spec's last job, reused first.
    free: Vec<u32>,
    numbers: HashMap<TriggerSpec, u32, foldhash::fast::RandomState>,
}

impl Specs {
    /// The number of `spec`, counting one more job using it.
    pub fn share(&mut self, spec: TriggerSpec) -> Result<u32, SlotsFull> {
        if let Some(&number) = self.numbers.get(&spec) {
            if let Some(Some((_, users))) = self.specs.get_mut(number as usize) {
                *users += 1;
                return Ok(number);
            }
        }
        let number = match self.free.pop() {
            Some(number) => number,
            None => {
                let number = u32::try_from(self.specs.len()).map_err(|_| SlotsFull)?;
                self.specs.push(None);
                number
            }
        };
        if let Some(place) = self.specs.get_mut(number as usize) {
            *place = Some((spec.clone(), 1));
        }
        self.numbers.insert(spec, number);
        Ok(number)
    }

    pub fn get(&self, number: u32) -> Option<&TriggerSpec> {
        self.specs
            .get(number as usize)?
            .as_ref()
            .map(|(spec, _)| spec)
    }

    /// One job fewer uses spec `number`.
    pub fn forget(&mut self, number: u32) {
        let Some(place) = self.specs.get_mut(number as usize) else {
            return;
        };
        let Some((_, users)) = place else {
            return;
        };
        *users -= 1;
        if *users == 0 {
            if let Some((spec, _)) = place.take() {
                self.numbers.remove(&spec);
            }
            self.free.push(number);
        }
    }

    /// Distinct specs held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.numbers.len()
    }
}
