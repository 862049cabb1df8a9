"""Whole models from the layers below: build and load them (``factory``, CASCADE's model folders in
``cascade_folder``), train a recipe and save it with its record (``runner``), train a family (``family``)."""
