//! Maps trigger kind names to decoders.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::{
    AndTrigger, CalendarIntervalTrigger, CronTrigger, DateTrigger, IntervalTrigger, OrTrigger,
    RandomIntervalTrigger, Trigger, TriggerSpec,
};
use crate::error::{Error, ErrorKind, Result};

/// Turns a stored [`TriggerSpec`] of one kind back into a trigger.
///
/// The registry is passed along so that combinators can decode the triggers
/// they contain.
pub type TriggerDecoder =
    Arc<dyn Fn(&TriggerSpec, &TriggerRegistry) -> Result<Arc<dyn Trigger>> + Send + Sync>;

/// The trigger kinds a scheduler understands: the built-ins plus any custom
/// kinds registered by name.
///
/// ```
/// use chime_core::trigger::{TriggerRegistry, TriggerSpec};
/// let registry = TriggerRegistry::with_builtins();
/// let spec: TriggerSpec = serde_json::from_str(r#"{"kind":"date","run_date":"2026-05-01T09:00:00Z"}"#).unwrap();
/// let trigger = registry.decode(&spec).unwrap();
/// assert_eq!(trigger.kind(), "date");
/// ```
#[derive(Clone)]
pub struct TriggerRegistry {
    decoders: HashMap<String, TriggerDecoder>,
}

impl TriggerRegistry {
    /// A registry that knows no kinds at all.
    pub fn empty() -> Self {
        TriggerRegistry {
            decoders: HashMap::new(),
        }
    }

    /// A registry with chime's built-in trigger kinds.
    pub fn with_builtins() -> Self {
        let mut registry = TriggerRegistry::empty();
        registry.register(DateTrigger::KIND, |spec, _| {
            Ok(Arc::new(DateTrigger::from_spec(spec)?) as Arc<dyn Trigger>)
        });
        registry.register(IntervalTrigger::KIND, |spec, _| {
            Ok(Arc::new(IntervalTrigger::from_spec(spec)?) as Arc<dyn Trigger>)
        });
        registry.register(CronTrigger::KIND, |spec, _| {
            Ok(Arc::new(CronTrigger::from_spec(spec)?) as Arc<dyn Trigger>)
        });
        registry.register(CalendarIntervalTrigger::KIND, |spec, _| {
            Ok(Arc::new(CalendarIntervalTrigger::from_spec(spec)?) as Arc<dyn Trigger>)
        });
        registry.register(RandomIntervalTrigger::KIND, |spec, _| {
            Ok(Arc::new(RandomIntervalTrigger::from_spec(spec)?) as Arc<dyn Trigger>)
        });
        registry.register(AndTrigger::KIND, |spec, registry| {
            Ok(Arc::new(AndTrigger::from_spec(spec, registry)?) as Arc<dyn Trigger>)
        });
        registry.register(OrTrigger::KIND, |spec, registry| {
            Ok(Arc::new(OrTrigger::from_spec(spec, registry)?) as Arc<dyn Trigger>)
        });
        registry
    }

    /// Registers (or replaces) the decoder for `kind`.
    pub fn register<F>(&mut self, kind: &str, decoder: F)
    where
        F: Fn(&TriggerSpec, &TriggerRegistry) -> Result<Arc<dyn Trigger>> + Send + Sync + 'static,
    {
        self.decoders.insert(kind.to_owned(), Arc::new(decoder));
    }

    /// Whether `kind` is known.
    pub fn contains(&self, kind: &str) -> bool {
        self.decoders.contains_key(kind)
    }

    /// Decodes a spec; an unknown kind is an [`ErrorKind::UnknownTrigger`] error.
    pub fn decode(&self, spec: &TriggerSpec) -> Result<Arc<dyn Trigger>> {
        match self.decoders.get(spec.kind()) {
            Some(decoder) => decoder(spec, self),
            None => Err(Error::new(
                ErrorKind::UnknownTrigger,
                format!("trigger kind '{}' is not registered", spec.kind()),
            )),
        }
    }
}

impl Default for TriggerRegistry {
    fn default() -> Self {
        TriggerRegistry::with_builtins()
    }
}

impl fmt::Debug for TriggerRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kinds: Vec<&String> = self.decoders.keys().collect();
        kinds.sort();
        f.debug_struct("TriggerRegistry")
            .field("kinds", &kinds)
            .finish()
    }
}
