#pragma once
// From a value the device layer read to the sample a snapshot carries.

#include "device/field_reader.hpp"
#include "model/snapshot.hpp"
#include "protocol/register_map.hpp"

namespace tracermon::poller {

// A value as read, with its raw words and scaled value, filed at `wall` (the cycle's time).
model::FieldSample make_sample(const protocol::Field& field, const device::FieldValue& value,
                               core::WallTime wall);

}  // namespace tracermon::poller
