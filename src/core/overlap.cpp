#include "core/overlap.hpp"

#include "core/error.hpp"

namespace harmonize {

double dice(const Mask& a, const Mask& b, std::uint8_t label) {
  require_same_grid(a.geom, b.geom, "dice: the label maps are not on one grid");
  double both = 0, na = 0, nb = 0;
  for (std::size_t n = 0; n < a.data.size(); ++n) {
    const bool x = a.data[n] == label, y = b.data[n] == label;
    both += x && y, na += x, nb += y;
  }
  return na + nb > 0 ? 2 * both / (na + nb) : 1.0;
}

double mean_tissue_dice(const Mask& a, const Mask& b) { return (dice(a, b, 1) + dice(a, b, 2) + dice(a, b, 3)) / 3; }

}  // namespace harmonize
