/**
 * StateDict: what a model, an optimizer or a gradient filter saves and restores, as PyTorch's `state_dict()`:
 * named NDArrays, plus scalars where an optimizer keeps some (its step count).
 *
 *   model      { 'embed.W_E': NDArray[…], 'blocks.0.attn.W_Q': …, … }              StateDict<NDArray>
 *   optimizer  { step: 120, 'state.0.step': 120, 'state.0.exp_avg': NDArray[…], … }  StateDict
 *
 * The NDArrays in a state dict are copies (`NDArray.clone()`): an in-place update of the parameters or
 * moments does not reach a saved one.
 */
import type { NDArray } from '@grok/tensor';

export type StateDict<V extends NDArray | number = NDArray | number> = Record<string, V>;
