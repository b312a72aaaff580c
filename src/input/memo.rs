//! The Inputs a function has read, kept with their result. Every call of a Composition
//! step carries the same input, so reading it again is wasted work: the last
//! [`PARSED_CAPACITY`] distinct inputs are kept, compared exactly, most recently used
//! first. An input that cannot be read is not kept. The function owns one memo
//! (`ReleaseFunction`); nothing here is process-wide.

use std::sync::{Arc, Mutex};

use function_sdk_rust::resource;
use pbjson_types::Struct;

use super::{Input, InputError};

/// Distinct inputs whose reading is kept (one per Composition step using this function).
const PARSED_CAPACITY: usize = 8;

/// The Inputs read, with their result.
#[derive(Debug, Default)]
pub struct InputMemo(Mutex<Kept>);

impl InputMemo {
    /// Reads the Input from the step's `input` Struct as Crossplane sends it (an absent
    /// input means all defaults), from the memo when an equal one was read before.
    pub fn read(&self, value: Option<&Struct>) -> Result<Arc<Input>, InputError> {
        let Some(value) = value else {
            return Ok(Arc::default());
        };
        let kept = || self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(input) = kept().get(value) {
            return Ok(input);
        }
        let input = Arc::new(Input::from_json(Some(&resource::struct_to_json(value)))?);
        kept().put(value.clone(), input.clone());
        Ok(input)
    }
}

/// Inputs already read with their result, most recently used first, at most
/// [`PARSED_CAPACITY`].
#[derive(Debug, Default)]
struct Kept(Vec<(Struct, Arc<Input>)>);

impl Kept {
    /// The Input read from a Struct equal to `value`, if kept; it becomes the most
    /// recently used.
    fn get(&mut self, value: &Struct) -> Option<Arc<Input>> {
        let at = self.0.iter().position(|(known, _)| known == value)?;
        let hit = self.0.remove(at);
        let input = hit.1.clone();
        self.0.insert(0, hit);
        Some(input)
    }

    /// Keeps `input` as read from `value`, forgetting the least recently used past
    /// capacity.
    fn put(&mut self, value: Struct, input: Arc<Input>) {
        self.0.truncate(PARSED_CAPACITY - 1);
        self.0.insert(0, (value, input));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn as_struct(value: Value) -> Struct {
        resource::json_to_struct(value.as_object().unwrap())
    }

    #[test]
    fn input_read_from_a_struct_is_the_input_read_from_its_json() {
        let json = json!({
            "apiVersion": "release.fn.zerotouch.dev/v1beta1",
            "kind": "Input",
            "namespace": "platform-system",
            "github": {"repository": "acme/approvals", "pollInterval": "45s"},
        });
        let expected = Input::from_json(Some(&json)).unwrap();
        let memo = InputMemo::default();
        for _ in 0..2 {
            let input = memo.read(Some(&as_struct(json.clone()))).unwrap();
            assert_eq!(*input, expected);
        }
        assert_eq!(*memo.read(None).unwrap(), Input::default());
        let bad = as_struct(json!({"github": {"pollInterval": "soon"}}));
        for _ in 0..2 {
            let err = memo.read(Some(&bad)).unwrap_err().to_string();
            assert!(err.contains("github.pollInterval"), "{err}");
        }
    }

    #[test]
    fn the_memo_finds_equal_inputs_and_keeps_the_most_recently_used() {
        let mut memo = Kept::default();
        let input = |n: usize| as_struct(json!({"namespace": format!("ns-{n}")}));
        let read = |n: usize| {
            Arc::new(Input {
                namespace: Some(format!("ns-{n}")),
                ..Input::default()
            })
        };
        for n in 0..PARSED_CAPACITY {
            memo.put(input(n), read(n));
        }
        assert_eq!(memo.0.len(), PARSED_CAPACITY);
        // Using the oldest makes it the newest; the next put forgets the then oldest.
        let hit = memo.get(&input(0)).unwrap();
        assert_eq!(hit.namespace.as_deref(), Some("ns-0"));
        memo.put(input(PARSED_CAPACITY), read(PARSED_CAPACITY));
        assert_eq!(memo.0.len(), PARSED_CAPACITY);
        assert!(memo.get(&input(0)).is_some());
        assert!(
            memo.get(&input(1)).is_none(),
            "the least recently used is forgotten"
        );
        assert!(memo.get(&input(PARSED_CAPACITY)).is_some());
        assert!(
            memo.get(&as_struct(json!({"namespace": "other"})))
                .is_none()
        );
    }
}
