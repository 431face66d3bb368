#include "store/store_error.hpp"
